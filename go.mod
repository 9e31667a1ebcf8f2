module gomenuos

go 1.26
