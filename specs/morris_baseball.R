# Batting averages y[i] of 18 players after their first 45 at-bats of 1970 (Efron and
# Morris 1975), and sigma = sqrt(m (1 - m) / 45), the binomial SD at their grand mean m.
# Made from ../shared/data/morris_baseball.csv by specs/make_data.py; the season
# averages, the truth to score against, are in morris_baseball.csv beside it.
"N" <- 18
"y" <- c(0.4, 0.378, 0.356, 0.333, 0.311, 0.311, 0.289, 0.267, 0.244, 0.244,
  0.222, 0.222, 0.222, 0.222, 0.222, 0.2, 0.178, 0.156)
"sigma" <- 0.06582
