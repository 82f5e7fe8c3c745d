// Command waitgroup-never-done is a thumbnail service. Rendering an album
// starts one goroutine per photo and waits for them on a WaitGroup; a photo
// that fails to decode makes its goroutine return before it calls Done, so
// that album's request waits forever. Other albums keep rendering.
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

	store := newBlobStore(300*time.Millisecond, 900*time.Millisecond)
	albums := seedAlbums(store)
	svc := &ThumbnailService{store: store}
	go svc.reportLoop(15 * time.Second)
	api := &GalleryAPI{albums: albums, thumbnails: svc}
	srv := &http.Server{Handler: api.routes(), ReadHeaderTimeout: 5 * time.Second}

	harness.StartLoad(ln.Addr().String())
	go harness.Announce(pprofAddr, ln.Addr().String(), harness.Readiness{Until: func() bool {
		return svc.decodeErrors.Load() >= 2 && svc.albumsRendered.Load() >= 4
	}})
	log.Fatal(srv.Serve(ln))
}
