module github.com/nfkit/nfkit/bench/goflow2

go 1.26.8

require (
	github.com/netsampler/goflow2/v2 v2.2.6
	github.com/nfkit/nfkit v0.0.0
	golang.org/x/perf v0.0.0-20260908200009-22c9c6c9d4da
	google.golang.org/protobuf v1.36.11
)

require github.com/aclements/go-moremath v0.0.0-20210112150236-f10218a38794 // indirect

replace github.com/nfkit/nfkit => ../..

tool golang.org/x/perf/cmd/benchstat
