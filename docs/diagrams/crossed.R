# Answers of 5 students (rows) to 4 items (columns), 1 = correct. R fills a matrix column by
# column, so each line below is one item's answers from the 5 students.
N <- 5
J <- 4
y <- structure(c(1, 1, 0, 1, 1,
                 1, 0, 0, 1, 1,
                 0, 1, 0, 1, 0,
                 0, 0, 0, 1, 0), .Dim = c(5, 4))
