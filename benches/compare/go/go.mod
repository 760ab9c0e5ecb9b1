module gorun-compare/gobench

go 1.21
