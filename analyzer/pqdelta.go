package analyzer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
)

// DELTA_BINARY_PACKED pages (DuckDB's times in its Parquet v2 files) are
// decoded whole into PLAIN little-endian values, which the column reader
// then views as it views a PLAIN page.

// pqDeltaMax bounds the values of a DELTA_BINARY_PACKED page (a page of
// equal deltas takes a few bytes for any count).
const pqDeltaMax = pqPageLimit / 8

var errDelta = errors.New("damaged DELTA_BINARY_PACKED page")

// decodeDelta decodes a DELTA_BINARY_PACKED page of n values of width 4
// or 8 bytes into buf (grown as needed) and returns the values' bytes.
func decodeDelta(b []byte, n, width int, buf []uint64) ([]byte, []uint64, error) {
	if n > pqDeltaMax {
		return nil, buf, fmt.Errorf("DELTA_BINARY_PACKED page of %d values (at most %d)", n, pqDeltaMax)
	}
	uv := func() uint64 {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			b = nil
			return 0
		}
		b = b[k:]
		return v
	}
	blockSize, miniblocks, total := uv(), uv(), uv()
	first, k := binary.Varint(b)
	if k <= 0 || blockSize == 0 || blockSize%128 != 0 || blockSize > 1<<16 || miniblocks == 0 ||
		blockSize%miniblocks != 0 || (blockSize/miniblocks)%32 != 0 || total != uint64(n) {
		return nil, buf, errDelta
	}
	b = b[k:]
	if cap(buf) < n {
		buf = make([]uint64, n)
	}
	out := buf[:n]
	per := int(blockSize / miniblocks)
	if n > 0 {
		out[0] = uint64(first)
	}
	prev := uint64(first)
	for i := 1; i < n; {
		minDelta, k := binary.Varint(b)
		if k <= 0 || len(b)-k < int(miniblocks) {
			return nil, buf, errDelta
		}
		widths := b[k : k+int(miniblocks)]
		b = b[k+int(miniblocks):]
		for m := 0; m < int(miniblocks) && i < n; m++ {
			w := uint(widths[m])
			if w > 64 {
				return nil, buf, errDelta
			}
			nb := per * int(w) / 8
			data := b
			if nb <= len(b) {
				b = b[nb:]
			} else {
				// The last miniblock may end short of its padding.
				b = nil
			}
			for j := 0; j < per && i < n; j++ {
				d, ok := unpackBits(data, uint(j)*w, w)
				if !ok {
					return nil, buf, errDelta
				}
				prev += uint64(minDelta) + d
				out[i] = prev
				i++
			}
		}
	}
	if width == 4 {
		// INT32 columns: the low 32 bits, in place.
		o := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(out))), n)
		for i, v := range out {
			o[i] = uint32(v)
		}
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(out))), 4*n), buf, nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(out))), 8*n), buf, nil
}

// unpackBits returns the w-bit value (w <= 64) at bit offset bit of b,
// packed least significant bit first; false if b is too short.
func unpackBits(b []byte, bit, w uint) (uint64, bool) {
	if w == 0 {
		return 0, true
	}
	end := bit + w
	if end > uint(len(b))*8 {
		return 0, false
	}
	var v uint64
	for got := uint(0); got < w; {
		o := (bit + got) >> 3
		sh := (bit + got) & 7
		take := min(8-sh, w-got)
		v |= uint64(b[o]>>sh&(1<<take-1)) << got
		got += take
	}
	return v, true
}
