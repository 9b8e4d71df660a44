// Package analyzer reads the flows that nfcollect (or python-netflow's
// collector) wrote and answers questions about them: the connections in them
// with both directions paired, top-N statistics and traffic timelines. It is
// the library behind cmd/nfanalyze; analyzer/USAGE.md describes the command,
// its flags, the filter language and the output formats.
//
// Run is the entry point. Its pipeline, per input file:
//
//  1. input.go, chunks.go: files, directories and globs are expanded
//     (ExpandInputs); a plain file is mapped into memory, a gzip or zstd file
//     is decompressed member by member (frame by frame), each checked before
//     use, and a damaged member is skipped up to the next intact one.
//  2. jsonscan.go, pyformat.go: each line is read into a Flow, nfcollect's JSON
//     lines by a scanner that decodes only the keys the analyzer uses,
//     python-netflow's lines by encoding/json. A bad line is reported with its
//     file, line and reason, counted and skipped.
//  3. filter.go: the flags' filters and the nfdump-style expression mark the
//     flows that match.
//  4. pair.go (with pendtable.go and calqueue.go): in the connection view, the
//     two directions of a connection are paired as flows are read, and
//     connections leave in start-time order; stats.go and timeline.go count
//     flows instead.
//  5. output.go, format.go, resolve.go: connections, statistics and timelines
//     are written as a table, CSV or JSON lines, with host names resolved
//     concurrently when a Resolver is given.
//
// Memory is bounded by the flows alive within the pairing window, not by the
// size of the input.
package analyzer
