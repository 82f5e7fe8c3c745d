module hangdoc.example/bench

go 1.22
