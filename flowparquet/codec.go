package flowparquet

import (
	"github.com/klauspost/compress/s2"
	"github.com/pierrec/lz4/v4"

	"github.com/parquet-go/parquet-go/compress"
	plz4 "github.com/parquet-go/parquet-go/compress/lz4"
	psnappy "github.com/parquet-go/parquet-go/compress/snappy"
)

// lz4Codec is parquet-go's LZ4_RAW codec at its fastest level (the same
// blocks), with one compressor kept, not one made per page: its 64 KiB
// hash table then costs neither an allocation nor clearing per page. It
// is not safe for concurrent use; each encoder has its own.
type lz4Codec struct {
	plz4.Codec
	c lz4.Compressor
}

var _ compress.Codec = (*lz4Codec)(nil)

// Encode compresses src into dst's memory, grown as needed.
func (c *lz4Codec) Encode(dst, src []byte) ([]byte, error) {
	n := lz4.CompressBlockBound(len(src))
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:cap(dst)]
	k, err := c.c.CompressBlock(src, dst)
	return dst[:k], err
}

// snappyCodec is parquet-go's SNAPPY codec, but compressing with s2's
// snappy-compatible fast mode (parquet-go's "better" mode allocates its
// hash tables for every page) into the memory of dst, grown as needed
// (snappy writes into its output's length, not its capacity).
type snappyCodec struct {
	psnappy.Codec
}

var _ compress.Codec = (*snappyCodec)(nil)

// Encode compresses src into dst's memory.
func (c *snappyCodec) Encode(dst, src []byte) ([]byte, error) {
	n := s2.MaxEncodedLen(len(src))
	if n < 0 {
		return nil, s2.ErrTooLarge
	}
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	return s2.EncodeSnappy(dst[:cap(dst)], src), nil
}
