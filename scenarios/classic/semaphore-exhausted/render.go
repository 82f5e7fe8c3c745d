package main

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"strings"
	"sync/atomic"
	"text/template"
	"time"

	"golang.org/x/sync/semaphore"
)

// Invoice is what gets rendered.
type Invoice struct {
	Number   string `json:"number"`
	Customer string `json:"customer"`
	Template string `json:"template"`
	Lines    []Line `json:"lines"`
}

// Line is one invoice line.
type Line struct {
	Item  string `json:"item"`
	Cents int64  `json:"cents"`
}

// Renderer turns invoices into PDFs, a few at a time: rendering is memory
// hungry.
type Renderer struct {
	slots     *semaphore.Weighted
	templates map[string]*template.Template
	rendered  atomic.Int64
	failed    atomic.Int64
}

// NewRenderer allows at most parallel renders at once.
func NewRenderer(parallel int64, templates map[string]*template.Template) *Renderer {
	return &Renderer{slots: semaphore.NewWeighted(parallel), templates: templates}
}

// Render produces the PDF of an invoice.
func (r *Renderer) Render(ctx context.Context, inv Invoice) ([]byte, error) {
	if err := r.slots.Acquire(ctx, 1); err != nil {
		return nil, err
	}
	tmpl, ok := r.templates[inv.Template]
	if !ok {
		r.failed.Add(1)
		return nil, fmt.Errorf("invoice %s: unknown template %q", inv.Number, inv.Template)
	}
	defer r.slots.Release(1)

	var body bytes.Buffer
	if err := tmpl.Execute(&body, inv); err != nil {
		r.failed.Add(1)
		return nil, fmt.Errorf("invoice %s: %w", inv.Number, err)
	}
	pdf := toPDF(body.String())
	r.rendered.Add(1)
	return pdf, nil
}

// toPDF wraps text in a minimal single-page PDF; the work stands in for the
// layout engine.
func toPDF(text string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n")
	b.WriteString("2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n")
	b.WriteString("3 0 obj << /Type /Page /Parent 2 0 R /Contents 4 0 R >> endobj\n4 0 obj << >> stream\nBT /F1 10 Tf 50 780 Td\n")
	for _, line := range strings.Split(text, "\n") {
		fmt.Fprintf(&b, "(%s) Tj 0 -12 Td\n", strings.NewReplacer("(", "\\(", ")", "\\)").Replace(line))
	}
	b.WriteString("ET\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	time.Sleep(30 * time.Millisecond)
	return b.Bytes()
}

func defaultTemplates() map[string]*template.Template {
	const standard = "INVOICE {{.Number}}\nBill to: {{.Customer}}\n{{range .Lines}}{{.Item}}  {{.Cents}}\n{{end}}"
	return map[string]*template.Template{
		"standard-2024": template.Must(template.New("standard-2024").Parse(standard)),
		"reverse-vat":   template.Must(template.New("reverse-vat").Parse(standard + "VAT reverse charged\n")),
	}
}

func (r *Renderer) reportLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		log.Printf("invoices: %d rendered, %d failed", r.rendered.Load(), r.failed.Load())
	}
}
