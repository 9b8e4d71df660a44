// Command nfkitvet runs nfkit's static guards (package
// internal/hotcheck): hotcheck on the functions marked //nfkit:hot,
// layering, and align. `make test` runs it as a vet tool:
//
//	go build -o bin/nfkitvet ./internal/cmd/nfkitvet
//	go vet -vettool=bin/nfkitvet ./...
//
// It also runs alone on package patterns: go run ./internal/cmd/nfkitvet ./decode
package main

import (
	"golang.org/x/tools/go/analysis/multichecker"

	"github.com/nfkit/nfkit/internal/hotcheck"
)

func main() {
	multichecker.Main(hotcheck.Analyzer, hotcheck.Layering, hotcheck.Align)
}
