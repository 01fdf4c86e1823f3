package probe

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// decodeHealthResponse decodes pgdock.plugin.v1.HealthResponse
// {bool healthy = 1; string message = 2; map<string,string> details = 3;
// bool degraded = 4}
// without the generated code (whose registration costs start-up time).
// Unknown fields are skipped, as protobuf requires.
func decodeHealthResponse(b []byte) (Result, error) {
	var r Result
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return Result{}, decodeErr(protowire.ParseError(n))
		}
		b = b[n:]
		switch {
		case (num == 1 || num == 4) && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return Result{}, decodeErr(protowire.ParseError(n))
			}
			if num == 1 {
				r.Healthy = v != 0
			} else {
				r.Degraded = v != 0
			}
			b = b[n:]
		case num == 2 && typ == protowire.BytesType:
			v, n := protowire.ConsumeString(b)
			if n < 0 {
				return Result{}, decodeErr(protowire.ParseError(n))
			}
			r.Message = v
			b = b[n:]
		case num == 3 && typ == protowire.BytesType:
			entry, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return Result{}, decodeErr(protowire.ParseError(n))
			}
			k, v, err := decodeMapEntry(entry)
			if err != nil {
				return Result{}, err
			}
			if r.Details == nil {
				r.Details = map[string]string{}
			}
			r.Details[k] = v
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return Result{}, decodeErr(protowire.ParseError(n))
			}
			b = b[n:]
		}
	}
	r.Degraded = r.Degraded && r.Healthy
	return r, nil
}

func decodeMapEntry(b []byte) (string, string, error) {
	var k, v string
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", "", decodeErr(protowire.ParseError(n))
		}
		b = b[n:]
		if (num == 1 || num == 2) && typ == protowire.BytesType {
			s, n := protowire.ConsumeString(b)
			if n < 0 {
				return "", "", decodeErr(protowire.ParseError(n))
			}
			if num == 1 {
				k = s
			} else {
				v = s
			}
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return "", "", decodeErr(protowire.ParseError(n))
		}
		b = b[n:]
	}
	return k, v, nil
}

func decodeErr(err error) error {
	return fmt.Errorf("decode health response: %w", err)
}
