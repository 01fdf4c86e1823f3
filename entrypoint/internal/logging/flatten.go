package logging

import (
	"encoding/json"
	"fmt"
	"strings"

	"go.uber.org/zap/buffer"
)

type bufferType = buffer.Buffer

// flattenJSON turns a JSON object rendered by zap into `k=v` pairs, keeping
// zap's field order. Strings with spaces or quotes are quoted.
func flattenJSON(raw string) string {
	if raw == "" || raw == "{}" {
		return ""
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return raw
	}
	var parts []string
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return raw
		}
		key, _ := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return raw
		}
		parts = append(parts, key+"="+renderValue(v))
	}
	return strings.Join(parts, " ")
}

func renderValue(v json.RawMessage) string {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if s == "" || strings.ContainsAny(s, " \t\n\"=") {
			return fmt.Sprintf("%q", s)
		}
		return s
	}
	return string(v) // numbers, booleans, objects: zap's JSON as is
}
