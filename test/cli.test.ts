import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = path.resolve(import.meta.dirname, '..', 'bin', 'terrinum.js');

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('terrinum command line', () => {
  it('prints its help', async () => {
    const { code, stdout } = await run(['--help'], {});
    expect(code).toBe(0);
    expect(stdout).toMatch(/serve/);
  });

  it('stops on a PORT that is not a number with one clear line', async () => {
    const { code, stderr } = await run(['serve'], { PORT: 'abc' });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual(['terrinum: PORT must be a number between 0 and 65535, got "abc"']);
  });

  it('stops on an unreachable DATABASE_URL with one clear line', async () => {
    // a port nobody listens on
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const { code, stderr } = await run(['serve'], { DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/terrinum`, PORT: '0' });
    expect(code).toBe(1);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^terrinum: cannot connect to DATABASE_URL \\(127\\.0\\.0\\.1:${port}/terrinum\\): .*ECONNREFUSED`));
  });
});
