package apply

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// strictReader walks a JSON document token by token, so that every error
// carries a line and column and repeated keys are caught, which
// encoding/json's Unmarshal accepts silently.
type strictReader struct {
	data []byte
	dec  *json.Decoder
}

func newStrictReader(data []byte) *strictReader {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return &strictReader{data: data, dec: dec}
}

// posError is a problem at a byte offset of the document.
type posError struct {
	Line, Col int
	Msg       string
}

func (e *posError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

func (r *strictReader) errorf(offset int64, format string, args ...any) error {
	line, col := 1, 1
	for _, b := range r.data[:min(int(offset), len(r.data))] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &posError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// next returns the next token and the offset where it starts.
func (r *strictReader) next() (json.Token, int64, error) {
	at := r.start()
	tok, err := r.dec.Token()
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, at, r.errorf(at, "unexpected end of file")
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return nil, at, r.errorf(syntax.Offset, "%v", syntax)
	}
	if err != nil {
		return nil, at, r.errorf(at, "%v", err)
	}
	return tok, at, nil
}

// start returns the offset of the next token, skipping the white space and
// separators that the decoder has not consumed yet.
func (r *strictReader) start() int64 {
	at := r.dec.InputOffset()
	for int(at) < len(r.data) {
		switch r.data[at] {
		case ' ', '\t', '\r', '\n', ',', ':':
			at++
			continue
		}
		break
	}
	return at
}

// object reads an object and calls field for each key, which must read
// the key's value. A repeated key is an error.
func (r *strictReader) object(field func(key string, at int64) error) error {
	tok, at, err := r.next()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return r.errorf(at, "expected an object, found %s", describe(tok))
	}
	seen := make(map[string]bool)
	for r.dec.More() {
		tok, at, err := r.next()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return r.errorf(at, "expected a field name, found %s", describe(tok))
		}
		if seen[key] {
			return r.errorf(at, "field %q is repeated", key)
		}
		seen[key] = true
		if err := field(key, at); err != nil {
			return err
		}
	}
	_, _, err = r.next() // the closing brace, which More checked is there
	return err
}

// array reads an array and calls elem for each element, which must read it.
func (r *strictReader) array(elem func(at int64) error) error {
	tok, at, err := r.next()
	if err != nil {
		return err
	}
	if tok != json.Delim('[') {
		return r.errorf(at, "expected an array, found %s", describe(tok))
	}
	for r.dec.More() {
		if err := elem(r.start()); err != nil {
			return err
		}
	}
	_, _, err = r.next()
	return err
}

func (r *strictReader) str() (string, error) {
	tok, at, err := r.next()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", r.errorf(at, "expected a string, found %s", describe(tok))
	}
	return s, nil
}

func (r *strictReader) integer() (int64, error) {
	tok, at, err := r.next()
	if err != nil {
		return 0, err
	}
	n, ok := tok.(json.Number)
	if !ok {
		return 0, r.errorf(at, "expected an integer, found %s", describe(tok))
	}
	v, err := n.Int64()
	if err != nil {
		return 0, r.errorf(at, "expected an integer, found %s", n)
	}
	return v, nil
}

func (r *strictReader) boolean() (bool, error) {
	tok, at, err := r.next()
	if err != nil {
		return false, err
	}
	b, ok := tok.(bool)
	if !ok {
		return false, r.errorf(at, "expected true or false, found %s", describe(tok))
	}
	return b, nil
}

// end checks that nothing but white space follows the document.
func (r *strictReader) end() error {
	at := r.start()
	if _, err := r.dec.Token(); err != io.EOF {
		return r.errorf(at, "unexpected data after the end of the document")
	}
	return nil
}

// describe names a token for an error message without quoting long text.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return fmt.Sprintf("%q", string(v))
	case string:
		return "a string"
	case json.Number:
		return "the number " + v.String()
	case bool:
		return fmt.Sprintf("%t", v)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}
