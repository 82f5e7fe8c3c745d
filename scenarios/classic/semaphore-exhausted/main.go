// Command semaphore-exhausted is an invoice service that renders PDFs with
// at most four renders at a time, enforced by a weighted semaphore. When an
// invoice names a template that does not exist, the render returns the
// error before it releases its slot. After four such invoices every slot is
// gone and every later render waits in Acquire forever.
package main

import (
	"log"
	"net/http"
	"time"

	"hangdoc.test/scenarios/classic/internal/harness"
)

func main() {
	if target, ok := harness.LoadgenTarget(); ok {
		drive("http://" + target)
		return
	}
	pprofAddr := harness.ServePprof()
	ln := harness.Listen()

	renderer := NewRenderer(4, defaultTemplates())
	go renderer.reportLoop(20 * time.Second)
	api := &InvoiceAPI{renderer: renderer}
	srv := &http.Server{Handler: api.routes(), ReadHeaderTimeout: 5 * time.Second}

	harness.StartLoad(ln.Addr().String())
	go harness.Announce(pprofAddr, ln.Addr().String(), harness.Readiness{Until: func() bool {
		return renderer.failed.Load() >= 4 && harness.Parked("main.(*Renderer).Render") == 6
	}})
	log.Fatal(srv.Serve(ln))
}
