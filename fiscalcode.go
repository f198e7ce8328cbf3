package sportello

import "strings"

// NormalizeFiscalCode upper-cases an Italian fiscal code (codice fiscale) and checks its format
// and check character. Omocodia (digits replaced by letters when two people would share a code)
// is accepted. An empty code is allowed: foreign residents may have none.
func NormalizeFiscalCode(field, s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return "", nil
	}
	if !fiscalCodeShape(s) {
		return "", InvalidField(field, "is not a valid fiscal code (16 characters, like RSSMRA85T10A562S)")
	}
	if FiscalCodeCheckChar(s[:15]) != s[15] {
		return "", InvalidField(field, "has a wrong check character: please check it for typing errors")
	}
	return s, nil
}

// omocodia are the letters that stand for the digits 0-9 in omocode fiscal codes.
const omocodia = "LMNPQRSTUV"

// months are the letters for January to December.
const months = "ABCDEHLMPRST"

func fiscalCodeShape(s string) bool {
	if len(s) != 16 {
		return false
	}
	digit := func(c byte) (int, bool) {
		if c >= '0' && c <= '9' {
			return int(c - '0'), true
		}
		if i := strings.IndexByte(omocodia, c); i >= 0 {
			return i, true
		}
		return 0, false
	}
	letter := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	for i := 0; i < 6; i++ {
		if !letter(s[i]) {
			return false
		}
	}
	for _, i := range []int{6, 7, 9, 10, 12, 13, 14} {
		if _, ok := digit(s[i]); !ok {
			return false
		}
	}
	if strings.IndexByte(months, s[8]) < 0 || !letter(s[11]) || !letter(s[15]) {
		return false
	}
	// Days are 1-31 for men and 41-71 for women.
	d1, _ := digit(s[9])
	d2, _ := digit(s[10])
	day := d1*10 + d2
	return (day >= 1 && day <= 31) || (day >= 41 && day <= 71)
}

// oddValues are the values of 0-9 then A-Z in the odd (1st, 3rd, ...) positions.
var oddValues = [36]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

// FiscalCodeCheckChar computes the check character of the first 15 characters of a fiscal code,
// which must be upper-case letters and digits.
func FiscalCodeCheckChar(first15 string) byte {
	sum := 0
	for i := 0; i < 15; i++ {
		c := first15[i]
		idx := int(c - '0')
		if c >= 'A' {
			idx = int(c-'A') + 10
		}
		if i%2 == 0 {
			sum += oddValues[idx]
		} else if idx < 10 {
			sum += idx
		} else {
			sum += idx - 10
		}
	}
	return byte('A' + sum%26)
}
