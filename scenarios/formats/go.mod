module hangdoc/scenarios/formats

go 1.21
