package sportello

import (
	"strings"
	"testing"
)

// Fiscal codes whose check character was computed by hand from the tables of DM 23/12/1976
// (odd positions: 0/A=1 1/B=0 2/C=5 3/D=7 4/E=9 5/F=13 6/G=15 7/H=17 8/I=19 9/J=21 K=2 L=4 M=18
// N=20 O=11 P=3 Q=6 R=8 S=12 T=14 U=16 V=10 W=22 X=25 Y=24 Z=23; even positions: 0-9 and A-Z
// count 0-9 and 0-25), the check character being the letter of the sum modulo 26.
const (
	// Mario Rossi, born 10 December 1985: the example in the Agenzia delle Entrate's forms.
	// Odd R8 S12 R8 8:19 T14 0:1 5:13 2:5 = 80; even S18 M12 A0 5 1 A0 6 = 42; 122 % 26 = 18 = S.
	codeMario = "RSSMRA85T10A562S"
	// Matteo Moretti, born in Milan (F205) on 9 April 1925: the example of the Italian Wikipedia
	// article "Codice fiscale". Odd M18 T14 T14 2:5 D7 9:21 2:5 5:13 = 97; even R17 M12 T19 5 0
	// F5 0 = 58; 155 % 26 = 25 = Z.
	codeMatteo = "MRTMTT25D09F205Z"
	// Giulia Bianchi, born in Rome (H501) on 1 January 1980: a woman, so the day is 1+40 = 41.
	// Odd B0 C5 L4 8:19 A1 1:0 5:13 1:0 = 42; even N13 G6 I8 0 4 H7 0 = 38; 80 % 26 = 2 = C.
	codeGiulia = "BNCGLI80A41H501C"
	// codeMario with its last digit, 2, replaced by N (omocodia): at an odd position 2 counts 5
	// and N counts 20, so the sum becomes 137; 137 % 26 = 7 = H.
	codeMarioOmocode = "RSSMRA85T10A56NH"
)

func TestFiscalCodeCheckCharMatchesHandComputedExamples(t *testing.T) {
	for _, code := range []string{codeMario, codeMatteo, codeGiulia, codeMarioOmocode} {
		if got := FiscalCodeCheckChar(code[:15]); got != code[15] {
			t.Errorf("FiscalCodeCheckChar(%q) = %q, want %q", code[:15], got, code[15])
		}
	}
}

// withCheckChar completes the first 15 characters of a code with its correct check character,
// so that a code can be made wrong in one respect only.
func withCheckChar(t *testing.T, first15 string) string {
	t.Helper()
	if len(first15) != 15 {
		t.Fatalf("withCheckChar(%q): want 15 characters", first15)
	}
	return first15 + string(FiscalCodeCheckChar(first15))
}

// digitPositions are the positions of a fiscal code that hold digits, from the right: omocodia
// replaces them in this order.
var digitPositions = []int{14, 13, 12, 10, 9, 7, 6}

// omocode returns the variant of code with its n rightmost digits replaced by the letters
// LMNPQRSTUV (standing for 0-9) and the check character recomputed.
func omocode(t *testing.T, code string, n int) string {
	t.Helper()
	b := []byte(code[:15])
	for _, i := range digitPositions[:n] {
		if b[i] < '0' || b[i] > '9' {
			t.Fatalf("omocode(%q): position %d is not a digit", code, i)
		}
		b[i] = "LMNPQRSTUV"[b[i]-'0']
	}
	return withCheckChar(t, string(b))
}

func TestNormalizeFiscalCodeAcceptsValidCodes(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{name: "man", in: codeMario, want: codeMario},
		{name: "published example", in: codeMatteo, want: codeMatteo},
		{name: "woman, day plus 40", in: codeGiulia, want: codeGiulia},
		// codeGiulia born on the 31st: the even-position 4 becomes 7, so 83 % 26 = 5 = F.
		{name: "woman born on the 31st", in: "BNCGLI80A71H501F", want: "BNCGLI80A71H501F"},
		{name: "omocode", in: codeMarioOmocode, want: codeMarioOmocode},
		{name: "lower case", in: "rssmra85t10a562s", want: codeMario},
		{name: "mixed case", in: "RssMra85T10a562S", want: codeMario},
		{name: "surrounding spaces", in: " \t" + codeMatteo + " \n", want: codeMatteo},
		{name: "lower case omocode with spaces", in: "  rssmra85t10a56nh ", want: codeMarioOmocode},
		{name: "empty", in: "", want: ""},
		{name: "blank", in: "   ", want: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeFiscalCode("fiscalCode", tc.in)
			wantNoError(t, err)
			if got != tc.want {
				t.Errorf("NormalizeFiscalCode(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormalizeFiscalCodeAcceptsEveryOmocodeVariant(t *testing.T) {
	if got := omocode(t, codeMario, 1); got != codeMarioOmocode {
		t.Fatalf("omocode(%q, 1) = %q, want the hand-computed %q", codeMario, got, codeMarioOmocode)
	}
	for _, base := range []string{codeMario, codeMatteo, codeGiulia} {
		for n := 1; n <= len(digitPositions); n++ {
			variant := omocode(t, base, n)
			t.Run(variant, func(t *testing.T) {
				got, err := NormalizeFiscalCode("fiscalCode", strings.ToLower(variant))
				wantNoError(t, err)
				if got != variant {
					t.Errorf("got %q, want %q", got, variant)
				}
				wrong := variant[:15] + string('A'+(variant[15]-'A'+1)%26)
				_, err = NormalizeFiscalCode("fiscalCode", wrong)
				wantError(t, err, CodeBadUserInput, "fiscalCode")
			})
		}
	}
}

func TestNormalizeFiscalCodeRejectsEveryWrongCheckChar(t *testing.T) {
	for c := byte('A'); c <= 'Z'; c++ {
		if c == codeMario[15] {
			continue
		}
		_, err := NormalizeFiscalCode("fiscalCode", codeMario[:15]+string(c))
		wantError(t, err, CodeBadUserInput, "fiscalCode")
	}
}

func TestNormalizeFiscalCodeRejectsMalformedCodes(t *testing.T) {
	cases := []struct {
		name, code string
	}{
		{name: "15 characters", code: codeMario[:15]},
		{name: "17 characters", code: codeMario + "X"},
		{name: "wrong check char", code: "RSSMRA85T10A562T"},
		{name: "check char a digit", code: "RSSMRA85T10A5620"},
		{name: "space inside", code: "RSSMRA85 T10A562S"},
		{name: "accented letter", code: "RSSMRÀ85T10A562S"},
		{name: "punctuation", code: "RSSMRA-5T10A562S"},
	}
	// Codes wrong in one respect only, completed with their correct check character.
	for _, c := range []struct{ name, first15 string }{
		{"month letter F", "RSSMRA85F10A562"},
		{"month letter Z", "RSSMRA85Z10A562"},
		{"month letter O", "RSSMRA85O10A562"},
		{"day 32", "RSSMRA85T32A562"},
		{"day 00", "RSSMRA85T00A562"},
		{"day 40", "RSSMRA85T40A562"},
		{"day 72", "RSSMRA85T72A562"},
		{"day 99", "RSSMRA85T99A562"},
		{"omocode day 72", "RSSMRA85TTNA562"},
		{"omocode day 00", "RSSMRA85TLLA562"},
		{"digit in the surname", "RS5MRA85T10A562"},
		{"digit in the name", "RSSMR485T10A562"},
		{"digit for the month", "RSSMRA85110A562"},
		{"digit for the town's letter", "RSSMRA85T100562"},
		{"non-omocode letter for a year digit", "RSSMRA8AT10A562"},
		{"non-omocode letter for a town digit", "RSSMRA85T10A5Z2"},
	} {
		cases = append(cases, struct{ name, code string }{c.name, withCheckChar(t, c.first15)})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeFiscalCode("citizen.fiscalCode", tc.code)
			wantError(t, err, CodeBadUserInput, "citizen.fiscalCode")
			if got != "" {
				t.Errorf("got %q with the error, want \"\"", got)
			}
		})
	}
}
