package gate

// fastSkipDepth bounds fastSkip's nesting; deeper documents take the
// validating skip, which allows maxJSONDepth.
const fastSkipDepth = 256

// jsonSpace marks JSON's white space bytes.
var jsonSpace = [256]bool{' ': true, '\t': true, '\r': true, '\n': true}

// fastSkip finds the end of the object or array at data[i] and checks its
// syntax as skipContainer does, in one loop over local state: the members
// of a plan that are kept raw (planned_values, prior_state, the
// configuration) are most of its bytes, and skipContainer's calls per
// token (skip, skipString, skipSpace on the decoder's position) were a
// tenth of /v1/check's CPU. ok is false when the value is not valid JSON
// or nests deeper than fastSkipDepth: the caller then runs skipContainer
// from i for the error, so errors are exactly the validating skip's.
func fastSkip(data []byte, i int) (end int, ok bool) {
	var stack [fastSkipDepth]byte // closers of the open containers
	depth := 0
	n := len(data)
value:
	for {
		for i < n && jsonSpace[data[i]] {
			i++
		}
		if i >= n {
			return i, false
		}
		switch c := data[i]; c {
		case '{', '[':
			if depth == fastSkipDepth {
				return i, false
			}
			closer := c + 2 // '{'+2 is '}', '['+2 is ']'
			stack[depth] = closer
			depth++
			i++
			for i < n && jsonSpace[data[i]] {
				i++
			}
			if i < n && data[i] == closer {
				depth--
				i++
				break // a value ended
			}
			if closer == '}' {
				if i, ok = fastMemberName(data, i); !ok {
					return i, false
				}
			}
			continue value
		case '"':
			if i, ok = fastString(data, i+1); !ok {
				return i, false
			}
		case 't':
			if !hasWord(data, i, "true") {
				return i, false
			}
			i += 4
		case 'f':
			if !hasWord(data, i, "false") {
				return i, false
			}
			i += 5
		case 'n':
			if !hasWord(data, i, "null") {
				return i, false
			}
			i += 4
		default:
			if c != '-' && (c < '0' || c > '9') {
				return i, false
			}
			if i, ok = fastNumber(data, i); !ok {
				return i, false
			}
		}
		// After a value: ',' or the closer of the innermost container.
		for {
			if depth == 0 {
				return i, true
			}
			for i < n && jsonSpace[data[i]] {
				i++
			}
			if i >= n {
				return i, false
			}
			closer := stack[depth-1]
			switch data[i] {
			case ',':
				i++
				if closer == '}' {
					for i < n && jsonSpace[data[i]] {
						i++
					}
					if i, ok = fastMemberName(data, i); !ok {
						return i, false
					}
				}
				continue value
			case closer:
				depth--
				i++
			default:
				return i, false
			}
		}
	}
}

// fastMemberName moves past `"name"` and the colon after it.
func fastMemberName(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != '"' {
		return i, false
	}
	i, ok := fastString(data, i+1)
	if !ok {
		return i, false
	}
	for i < len(data) && jsonSpace[data[i]] {
		i++
	}
	if i >= len(data) || data[i] != ':' {
		return i, false
	}
	return i + 1, true
}

// fastString moves past a string whose contents start at data[i]: its
// escapes valid, no control character (skipString's rules).
func fastString(data []byte, i int) (int, bool) {
	for {
		i = stringSpecial(data, i)
		if i >= len(data) {
			return i, false
		}
		switch data[i] {
		case '"':
			return i + 1, true
		case '\\':
			if i+1 >= len(data) {
				return i, false
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if hexEscape(data[i:]) < 0 {
					return i, false
				}
				i += 6
			default:
				return i, false
			}
		default:
			return i, false
		}
	}
}

// fastNumber moves past a number (skipNumber's grammar).
func fastNumber(data []byte, i int) (int, bool) {
	n := len(data)
	if data[i] == '-' {
		i++
	}
	switch {
	case i < n && data[i] == '0':
		i++
	case i < n && data[i] >= '1' && data[i] <= '9':
		i = digitsEnd(data, i)
	default:
		return i, false
	}
	if i < n && data[i] == '.' {
		if i = digitsEnd(data, i+1); data[i-1] == '.' {
			return i, false
		}
	}
	if i < n && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < n && (data[i] == '+' || data[i] == '-') {
			i++
		}
		start := i
		if i = digitsEnd(data, i); i == start {
			return i, false
		}
	}
	return i, true
}

// digitsEnd returns the index of the first byte at or after i that is
// not a decimal digit.
func digitsEnd(data []byte, i int) int {
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	return i
}

func hasWord(data []byte, i int, word string) bool {
	return len(data)-i >= len(word) && string(data[i:i+len(word)]) == word
}
