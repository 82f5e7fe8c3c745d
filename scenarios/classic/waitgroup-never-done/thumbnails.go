package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"sync"
	"sync/atomic"
	"time"
)

// Photo is an original image in the blob store.
type Photo struct {
	Key string
}

// Album is an ordered set of photos.
type Album struct {
	ID     string
	Photos []Photo
}

// Thumbnail is a rendered preview.
type Thumbnail struct {
	Key    string `json:"key"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int    `json:"bytes"`
}

// ThumbnailService renders album previews.
type ThumbnailService struct {
	store          *blobStore
	albumsRendered atomic.Int64
	decodeErrors   atomic.Int64
}

const thumbSize = 64

// GenerateAlbum renders every photo of an album in parallel.
func (s *ThumbnailService) GenerateAlbum(ctx context.Context, album *Album) ([]Thumbnail, error) {
	var wg sync.WaitGroup
	results := make(chan Thumbnail, len(album.Photos))
	wg.Add(len(album.Photos))
	for _, photo := range album.Photos {
		go s.renderVariant(ctx, &wg, photo, results)
	}
	wg.Wait()
	close(results)

	thumbs := make([]Thumbnail, 0, len(album.Photos))
	for t := range results {
		thumbs = append(thumbs, t)
	}
	s.albumsRendered.Add(1)
	if len(thumbs) < len(album.Photos) {
		return thumbs, fmt.Errorf("album %s: %d of %d photos failed", album.ID, len(album.Photos)-len(thumbs), len(album.Photos))
	}
	return thumbs, nil
}

// renderVariant fetches one original, scales it down and reports it.
func (s *ThumbnailService) renderVariant(ctx context.Context, wg *sync.WaitGroup, photo Photo, out chan<- Thumbnail) {
	raw, err := s.store.Fetch(ctx, photo.Key)
	if err != nil {
		log.Printf("thumbnail %s: fetch: %v", photo.Key, err)
		wg.Done()
		return
	}
	src, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		s.decodeErrors.Add(1)
		log.Printf("thumbnail %s: decode: %v", photo.Key, err)
		return
	}
	thumb := scaleDown(src, thumbSize)
	var buf bytes.Buffer
	if err := png.Encode(&buf, thumb); err != nil {
		log.Printf("thumbnail %s: encode: %v", photo.Key, err)
		wg.Done()
		return
	}
	out <- Thumbnail{Key: photo.Key, Width: thumbSize, Height: thumbSize, Bytes: buf.Len()}
	wg.Done()
}

// scaleDown is a nearest-neighbour resize to a size x size square.
func scaleDown(src image.Image, size int) *image.RGBA {
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			dst.Set(x, y, src.At(b.Min.X+x*b.Dx()/size, b.Min.Y+y*b.Dy()/size))
		}
	}
	return dst
}

func (s *ThumbnailService) reportLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		log.Printf("thumbnails: %d albums rendered, %d decode errors", s.albumsRendered.Load(), s.decodeErrors.Load())
	}
}

// blobStore stands in for the object store holding the originals: it
// answers after a latency that varies per key.
type blobStore struct {
	mu       sync.RWMutex
	objects  map[string][]byte
	min, max time.Duration
}

func newBlobStore(min, max time.Duration) *blobStore {
	return &blobStore{objects: map[string][]byte{}, min: min, max: max}
}

func (b *blobStore) Put(key string, data []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objects[key] = data
}

func (b *blobStore) Fetch(ctx context.Context, key string) ([]byte, error) {
	b.mu.RLock()
	data, ok := b.objects[key]
	b.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("no object %q", key)
	}
	latency := b.min + time.Duration(len(key)*37%10)*(b.max-b.min)/10
	t := time.NewTimer(latency)
	defer t.Stop()
	select {
	case <-t.C:
		return data, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// seedAlbums fills the store with generated photos. One album imported from
// an old system holds a truncated file.
func seedAlbums(store *blobStore) map[string]*Album {
	albums := map[string]*Album{}
	add := func(id string, n int, corrupt int) {
		a := &Album{ID: id}
		for i := range n {
			key := fmt.Sprintf("%s/IMG_%04d.png", id, 100+i)
			data := samplePNG(i)
			if i == corrupt {
				data = data[:len(data)/3]
			}
			store.Put(key, data)
			a.Photos = append(a.Photos, Photo{Key: key})
		}
		albums[id] = a
	}
	add("alb-summer-2024", 4, -1)
	add("alb-wedding", 3, -1)
	add("alb-office-party", 4, -1)
	add("alb-2019-import", 4, 2)
	add("alb-scans-1998", 3, 0)
	return albums
}

func samplePNG(seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := range 240 {
		for x := range 320 {
			img.Set(x, y, color.RGBA{uint8(x + seed*40), uint8(y), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}
