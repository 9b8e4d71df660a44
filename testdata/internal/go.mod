module github.com/nfkit/nfkit/testdata/internal

go 1.26

require github.com/google/gopacket v1.1.19
