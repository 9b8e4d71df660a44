package analyzer

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"

	"github.com/parquet-go/parquet-go"

	"github.com/nfkit/nfkit/flowparquet"
)

// parquetMagic starts (and ends) every Parquet file.
var parquetMagic = []byte("PAR1")

// isParquet reports whether the regular file f starts like a Parquet file.
func isParquet(f *os.File) bool {
	var b [4]byte
	n, _ := f.ReadAt(b[:], 0)
	return bytes.Equal(b[:n], parquetMagic)
}

// parquetBatch is the number of rows read at once.
const parquetBatch = 1024

// readParquet reads a Parquet file of nfcollect (--format parquet), row
// by row into handle, as readLines does for JSON lines: the typed columns
// give the Flow, the presence bits what the record had. Row numbers stand
// for line numbers in messages.
func (a *run) readParquet(in *inputState, f *os.File, size int64) {
	in.lr = &lineReader{}
	pf, err := parquet.OpenFile(f, size)
	if err != nil {
		in.broken = true
		in.msg(0, "not a readable Parquet file (%v); a file nfcollect was still writing has no footer", err)
		return
	}
	for _, name := range []string{"present", "src_addr", "src_addr_family", "dst_addr", "dst_addr_family"} {
		if _, ok := pf.Schema().Lookup(name); !ok {
			in.broken = true
			in.msg(0, "a Parquet file without the column %s: not written by nfcollect", name)
			return
		}
	}
	r := parquet.NewGenericReader[parquetRow](pf)
	defer r.Close()
	rows := make([]parquetRow, parquetBatch)
	for {
		n, err := r.Read(rows)
		for i := range rows[:n] {
			in.lr.line++
			a.sum.Lines++
			if err := parquetFlow(&rows[i], &a.flow); err != nil {
				a.sum.SkippedLines++
				in.msg(in.lr.line, "%v, row skipped", err)
				continue
			}
			a.handle(&a.flow)
		}
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			in.broken = true
			in.msg(in.lr.line, "reading the Parquet file: %v; the rest of the file is skipped", err)
			return
		}
	}
}

// parquetRow is the columns of nfcollect's Parquet files that the
// analyzer reads (flowparquet.Row less the others): the reader skips the
// rest, other_fields above all.
type parquetRow struct {
	Type                 string   `parquet:"type"`
	TimeReceived         int64    `parquet:"time_received_ns,timestamp(nanosecond)"`
	SamplerAddress       [16]byte `parquet:"sampler_address"`
	SamplerAddressFamily uint8    `parquet:"sampler_address_family"`
	Start                int64    `parquet:"time_flow_start_ns,timestamp(nanosecond)"`
	End                  int64    `parquet:"time_flow_end_ns,timestamp(nanosecond)"`
	Bytes                uint64   `parquet:"bytes"`
	Packets              uint64   `parquet:"packets"`
	OutBytes             uint64   `parquet:"out_bytes"`
	OutPackets           uint64   `parquet:"out_packets"`
	RevBytes             uint64   `parquet:"rev_bytes"`
	RevPackets           uint64   `parquet:"rev_packets"`
	Flows                uint64   `parquet:"flows"`
	SrcAddr              [16]byte `parquet:"src_addr"`
	SrcAddrFamily        uint8    `parquet:"src_addr_family"`
	DstAddr              [16]byte `parquet:"dst_addr"`
	DstAddrFamily        uint8    `parquet:"dst_addr_family"`
	SrcPort              uint16   `parquet:"src_port"`
	DstPort              uint16   `parquet:"dst_port"`
	Proto                uint8    `parquet:"proto"`
	ICMPType             uint8    `parquet:"icmp_type"`
	ICMPCode             uint8    `parquet:"icmp_code"`
	SrcAS                uint32   `parquet:"src_as"`
	DstAS                uint32   `parquet:"dst_as"`
	Present              uint64   `parquet:"present"`
}

// parquetAddr returns the address of a 16-byte column and its family.
func parquetAddr(b *[16]byte, family uint8) netip.Addr {
	a := netip.AddrFrom16(*b)
	if family == 4 {
		return a.Unmap()
	}
	return a
}

// parquetFlow makes f from a row as finish makes it from a JSON line.
func parquetFlow(r *parquetRow, f *Flow) error {
	p := r.Present
	*f = Flow{}
	if p&flowparquet.HasSrcAddr == 0 {
		return &missingError{"src_addr"}
	}
	if p&flowparquet.HasDstAddr == 0 {
		return &missingError{"dst_addr"}
	}
	f.Src = parquetAddr(&r.SrcAddr, r.SrcAddrFamily)
	f.Dst = parquetAddr(&r.DstAddr, r.DstAddrFamily)
	if p&flowparquet.HasSamplerAddress != 0 {
		f.Exporter = parquetAddr(&r.SamplerAddress, r.SamplerAddressFamily)
	}
	f.Version = versionOf([]byte(r.Type))
	f.Received = r.TimeReceived
	f.Start, f.End = r.Start, r.End
	if p&flowparquet.HasStart != 0 {
		f.Flags |= flowHasStart
	}
	if p&flowparquet.HasEnd != 0 {
		f.Flags |= flowHasEnd
	}
	// bytes wins over out_bytes, and packets over out_packets unless packets is 0.
	f.Bytes = r.Bytes
	if p&flowparquet.HasBytes == 0 {
		f.Bytes = r.OutBytes
	}
	f.Packets = r.Packets
	if f.Packets == 0 && p&flowparquet.HasOutPackets != 0 {
		f.Packets = r.OutPackets
	}
	if p&(flowparquet.HasRevBytes|flowparquet.HasRevPackets) != 0 {
		f.Flags |= flowBiflow
	}
	f.RevBytes, f.RevPackets = r.RevBytes, r.RevPackets
	f.Flows = r.Flows
	f.SrcPort, f.DstPort, f.Proto = r.SrcPort, r.DstPort, r.Proto
	f.SrcAS, f.DstAS = r.SrcAS, r.DstAS
	if p&flowparquet.HasICMPType != 0 && f.SrcPort == 0 && f.DstPort == 0 {
		f.DstPort = uint16(r.ICMPType)<<8 | uint16(r.ICMPCode)
	}
	f.fixTimes()
	return nil
}
