# Six studies' mean differences y[j] with standard deviations sd[j] (Draper 1992).
# Made from ../shared/data/heart_attack_meta.csv by specs/make_data.py.
"J" <- 6
"y" <- c(2.77, 2.5, 1.84, 2.56, 2.31, 1.15)
"sd" <- c(1.65, 1.31, 2.34, 1.67, 1.98, 0.9)
