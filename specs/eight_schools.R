# Coaching effects in eight schools (Rubin 1981): estimate y[j] with standard error sigma[j].
# Made from ../shared/data/eight_schools.csv by specs/make_data.py.
"J" <- 8
"y" <- c(28, 8, -3, 7, -1, 1, 18, 12)
"sigma" <- c(15, 10, 16, 11, 9, 11, 10, 18)
