module hangdoc.example/formats-agg

go 1.21
