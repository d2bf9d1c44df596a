/**
 * The time slider: a range over the indicator's vintages (oldest left), its label, and a play button that steps
 * through them, waiting for each map to be drawn before the next. Keyboard: the native range (←/→, Home, End).
 */
import { t, vintageLabel, type Lang } from '../i18n.ts';

const STEP_MS = 900;

export class Timeline {
  private vintages: string[] = [];
  private playing = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lang: Lang = 'fr';

  constructor(
    private readonly container: HTMLElement,
    private readonly range: HTMLInputElement,
    private readonly output: HTMLOutputElement,
    private readonly button: HTMLButtonElement,
    private readonly onChange: (vintage: string) => Promise<void>,
  ) {
    range.addEventListener('input', () => {
      this.stop();
      this.showLabel();
      void this.onChange(this.current());
    });
    button.addEventListener('click', () => (this.playing ? this.stop() : this.play()));
  }

  current(): string {
    return this.vintages[Number(this.range.value)] ?? '';
  }

  isPlaying(): boolean {
    return this.playing;
  }

  set(vintages: readonly string[], current: string | null, lang: Lang): void {
    this.vintages = [...vintages];
    this.lang = lang;
    const index = Math.max(0, current ? this.vintages.indexOf(current) : this.vintages.length - 1);
    this.range.min = '0';
    this.range.max = String(Math.max(0, this.vintages.length - 1));
    this.range.step = '1';
    this.range.value = String(index);
    this.range.disabled = this.vintages.length <= 1;
    this.button.disabled = this.vintages.length <= 1;
    this.container.hidden = this.vintages.length === 0;
    this.showLabel();
    this.showButton();
  }

  private showLabel(): void {
    const label = vintageLabel(this.current(), this.lang);
    this.output.textContent = label;
    this.range.setAttribute('aria-valuetext', label);
  }

  private showButton(): void {
    this.button.textContent = this.playing ? `⏸ ${t('pause', this.lang)}` : `▶ ${t('play', this.lang)}`;
    this.button.setAttribute('aria-pressed', String(this.playing));
  }

  play(): void {
    if (this.vintages.length <= 1) return;
    this.playing = true;
    this.showButton();
    // from the start when at the end
    if (Number(this.range.value) >= this.vintages.length - 1) this.range.value = '0';
    else this.range.value = String(Number(this.range.value) + 1);
    void this.step();
  }

  private async step(): Promise<void> {
    if (!this.playing) return;
    this.showLabel();
    const started = performance.now();
    await this.onChange(this.current());
    if (!this.playing) return;
    if (Number(this.range.value) >= this.vintages.length - 1) {
      this.stop();
      return;
    }
    this.timer = setTimeout(() => {
      this.range.value = String(Number(this.range.value) + 1);
      void this.step();
    }, Math.max(0, STEP_MS - (performance.now() - started)));
  }

  stop(): void {
    this.playing = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.showButton();
  }
}
