package analyzer

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// HumanSize formats a byte count as the Python analyzer did: "512B", "4.25K",
// "4.25M", "1.50G" (base 1024), and "T" beyond.
func HumanSize(n uint64) string {
	if n < 1024 {
		return strconv.FormatUint(n, 10) + "B"
	}
	v := float64(n) / 1024
	for _, u := range []string{"K", "M", "G"} {
		if v < 1024 {
			return fmt.Sprintf("%.2f%s", v, u)
		}
		v /= 1024
	}
	return fmt.Sprintf("%.2fT", v)
}

// HumanDuration formats a duration as the Python analyzer did: "42 sec",
// "15:27 min", "2:03.09 hours" (h:mm.ss).
func HumanDuration(ns int64) string {
	s := ns / int64(time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d sec", s)
	case s > 3600:
		return fmt.Sprintf("%d:%02d.%02d hours", s/3600, s%3600/60, s%60)
	}
	return fmt.Sprintf("%02d:%02d min", s/60, s%60)
}

// pythonTime is the Python analyzer's timestamp layout (note the dot before seconds).
const pythonTime = "2006-01-02 15:04.05"

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, `\u00`...)
				b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// appendCSV appends one CSV field, quoting when needed.
func appendCSV(b []byte, s string) []byte {
	need := false
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ',' || c == '"' || c == '\n' || c == '\r' {
			need = true
			break
		}
	}
	if !need {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func rfc3339(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

func pct(part, total uint64) float64 {
	if total == 0 {
		return 0
	}
	return float64(part) * 100 / float64(total)
}
