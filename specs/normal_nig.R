# Simulated by specs/make_data.py (seed 2024): 20 draws from N(3, 2^2), and the
# normal-inverse-gamma prior's constants.
"N" <- 20
"y" <- c(0.9363, 1.1152, -0.5392, 3.9171, 3.1683, -0.2579, 2.4921, -0.3741, 3.7042, 5.1589,
  1.6491, -0.6214, 3.3488, 1.7833, 4.0576, 4.3439, 0.2268, 3.4792, 2.0993, 4.0388)
"mu0" <- 0
"tau0sq" <- 10
"alpha" <- 2
"beta" <- 2
