package sportello

import "strings"

// DiffOp says what a line of a diff is.
type DiffOp string

// The operations of a diff.
const (
	DiffEqual  DiffOp = "EQUAL"
	DiffInsert DiffOp = "INSERT"
	DiffDelete DiffOp = "DELETE"
)

// DiffLine is one line of a diff.
type DiffLine struct {
	Op   DiffOp
	Text string
}

// maxDiffCells bounds the table of the longest common subsequence (lines of one text times
// lines of the other, after the common start and end are set aside), so a diff of two huge
// texts costs at most a few megabytes; past it the middle is shown as deleted and inserted.
const maxDiffCells = 4_000_000

// DiffLines compares two texts line by line: the lines of a longest common subsequence are
// EQUAL, the others DELETE (only in a) or INSERT (only in b), deletions before insertions.
func DiffLines(a, b string) []DiffLine {
	x, y := splitLines(a), splitLines(b)
	var head, tail []DiffLine
	for len(x) > 0 && len(y) > 0 && x[0] == y[0] {
		head = append(head, DiffLine{DiffEqual, x[0]})
		x, y = x[1:], y[1:]
	}
	for len(x) > 0 && len(y) > 0 && x[len(x)-1] == y[len(y)-1] {
		tail = append([]DiffLine{{DiffEqual, x[len(x)-1]}}, tail...)
		x, y = x[:len(x)-1], y[:len(y)-1]
	}
	out := head
	if len(x)*len(y) > maxDiffCells {
		for _, l := range x {
			out = append(out, DiffLine{DiffDelete, l})
		}
		for _, l := range y {
			out = append(out, DiffLine{DiffInsert, l})
		}
		return append(out, tail...)
	}
	// lcs[i][j] is the length of the longest common subsequence of x[i:] and y[j:].
	n, m := len(x), len(y)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && x[i] == y[j]:
			out = append(out, DiffLine{DiffEqual, x[i]})
			i, j = i+1, j+1
		case j == m || (i < n && lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, DiffLine{DiffDelete, x[i]})
			i++
		default:
			out = append(out, DiffLine{DiffInsert, y[j]})
			j++
		}
	}
	return append(out, tail...)
}

// splitLines splits a text into lines; an empty text has none.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
}
