# Reference LISA for test/analysis-lisa-r.test.ts: spdep on the communes exported from the database.
# Usage: Rscript lisa.R <communes.geojson (properties code, value)> <snap in degrees> <output folder>
# Writes neighbours.csv (code, neighbour), local.csv (code, ii, p_folded, quadrant) and global.csv (moran_i, islands).
suppressPackageStartupMessages({
  library(sf)
  library(spdep)
})
args <- commandArgs(trailingOnly = TRUE)
communes <- st_read(args[1], quiet = TRUE)
snap <- as.numeric(args[2])
out <- args[3]
communes <- communes[order(communes$code), ]

# Same contiguity as sql/queries/queen_contiguity.sql: queen, vertices within `snap` (coordinate units, degrees)
nb <- poly2nb(communes, queen = TRUE, snap = snap, row.names = communes$code)
pairs <- do.call(rbind, lapply(seq_along(nb), function(i) {
  if (length(nb[[i]]) == 1 && nb[[i]][1] == 0L) return(NULL)
  data.frame(code = communes$code[i], neighbour = communes$code[nb[[i]]])
}))
write.csv(pairs, file.path(out, "neighbours.csv"), row.names = FALSE, quote = TRUE)

lw <- nb2listw(nb, style = "W", zero.policy = TRUE)
x <- communes$value
local <- localmoran(x, lw, zero.policy = TRUE)
set.seed(20180331)
perm <- localmoran_perm(x, lw, nsim = 999, zero.policy = TRUE)
quadrant <- as.character(attr(perm, "quadr")$pysal)
write.csv(
  data.frame(code = communes$code, ii = sprintf("%.17g", local[, "Ii"]), p_folded = perm[, "Pr(folded) Sim"], quadrant = quadrant),
  file.path(out, "local.csv"), row.names = FALSE, quote = TRUE
)
global <- moran.test(x, lw, zero.policy = TRUE)
write.csv(
  data.frame(moran_i = sprintf("%.17g", global$estimate[["Moran I statistic"]]), islands = sum(card(nb) == 0L), spdep = as.character(packageVersion("spdep"))),
  file.path(out, "global.csv"), row.names = FALSE, quote = TRUE
)
