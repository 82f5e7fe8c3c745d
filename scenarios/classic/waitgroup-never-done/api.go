package main

import (
	"encoding/json"
	"net/http"
)

// GalleryAPI is the gallery's HTTP interface.
type GalleryAPI struct {
	albums     map[string]*Album
	thumbnails *ThumbnailService
}

func (a *GalleryAPI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /albums/{id}/thumbnails", a.renderAlbum)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return mux
}

func (a *GalleryAPI) renderAlbum(w http.ResponseWriter, r *http.Request) {
	album, ok := a.albums[r.PathValue("id")]
	if !ok {
		http.Error(w, "no such album", http.StatusNotFound)
		return
	}
	thumbs, err := a.thumbnails.GenerateAlbum(r.Context(), album)
	if err != nil {
		w.WriteHeader(http.StatusMultiStatus)
	}
	_ = json.NewEncoder(w).Encode(thumbs)
}
