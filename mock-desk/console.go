package mockdesk

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed console
var consoleFiles embed.FS

// MarkdownJS is the ES module that renders an agent's markdown in the
// console (console/markdown.js): deskbridge's demo chat page serves it too,
// so that the agent and the customer see a message the same way.
var MarkdownJS = mustRead("console/markdown.js")

// faviconSVG is the console's icon (an SVG).
var faviconSVG = mustRead("console/favicon.svg")

func mustRead(name string) []byte {
	b, err := consoleFiles.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return b
}

// consoleHandler serves the agent console: static files, no build step,
// with a CSP that forbids inline script and any other origin.
func consoleHandler() http.Handler {
	sub, _ := fs.Sub(consoleFiles, "console")
	files := http.StripPrefix("/console/", http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: https: http:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		files.ServeHTTP(w, r)
	})
}

// FaviconHandler serves faviconSVG, for /favicon.ico (browsers ask for it
// whatever the page's icon link says).
func FaviconHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write(faviconSVG)
	})
}
