package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeGoProgram is the README's Go program: Example_engine's imports and
// body as a main package.
func readmeGoProgram(t *testing.T) string {
	t.Helper()
	const file = "example_engine_test.go"
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	text := func(n ast.Node) string {
		return string(src[fset.Position(n.Pos()).Offset:fset.Position(n.End()).Offset])
	}
	var imports, body string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			if d.Tok == token.IMPORT {
				imports = text(d)
			}
		case *ast.FuncDecl:
			if d.Name.Name == "Example_engine" {
				b := text(d.Body)
				body = strings.TrimSuffix(strings.TrimPrefix(b, "{\n"), "}")
				if i := strings.Index(body, "\t// Output:"); i >= 0 {
					body = body[:i]
				}
			}
		}
	}
	if imports == "" || body == "" {
		t.Fatalf("%s: no imports or no Example_engine", file)
	}
	return "package main\n\n" + imports + "\n\nfunc main() {\n" + body + "}\n"
}

var readmeGoBlock = regexp.MustCompile("(?s)(## Using the engine from Go\n.*?```go\n)(.*?)(```)")

// TestREADMEGoSnippet: the README's Go program is Example_engine (which
// runs, with its output checked, as a test), and it compiles as given.
func TestREADMEGoSnippet(t *testing.T) {
	path := filepath.Join(repoRoot, "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := readmeGoBlock.FindSubmatchIndex(b)
	if m == nil {
		t.Fatal("README.md has no ```go block under \"## Using the engine from Go\"")
	}
	want := readmeGoProgram(t)
	if got := string(b[m[4]:m[5]]); got != want {
		if !*updateREADME {
			t.Fatalf("README.md's Go program is not Example_engine's body; run: go test ./cmd/deskbridge -run TestREADME -update-readme\n got:\n%s\nwant:\n%s", got, want)
		}
		out := string(b[:m[4]]) + want + string(b[m[5]:])
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Compile it as a reader would: a main package of its own (inside this
	// module, so that its imports resolve).
	dir, err := os.MkdirTemp(".", "readme-snippet-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "vet", "./"+filepath.Base(dir))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README's Go program does not compile: %v\n%s", err, out)
	}
}

var readmeJSBlock = regexp.MustCompile("(?s)```js\n(.*?)```")

// TestREADMEJavaScriptParses: each JavaScript snippet of the README (JSX
// included) is valid syntax, by esbuild, which scripts/install-npm.sh
// installs with the @carbon/ai-chat page.
func TestREADMEJavaScriptParses(t *testing.T) {
	needCarbonBundle(t)
	esbuild := filepath.Join(carbonPage, "node_modules", ".bin", "esbuild")
	blocks := readmeJSBlock.FindAllStringSubmatch(readRepoFile(t, "README.md"), -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```js block")
	}
	for i, b := range blocks {
		cmd := exec.Command(esbuild, "--loader=jsx", "--format=esm", "--target=es2022", "--log-level=error")
		cmd.Stdin = strings.NewReader(b[1])
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("README.md's JavaScript snippet %d does not parse: %v\n%s\n%s", i+1, err, out, b[1])
		}
	}
}
