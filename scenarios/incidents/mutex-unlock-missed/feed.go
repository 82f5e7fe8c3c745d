package main

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// FeedConsumer takes score updates off the upstream feed and publishes them to the hub.
type FeedConsumer struct {
	hub     *ScoreHub
	updates chan ScoreUpdate
	dropped int
}

// produce stands in for the upstream feed connection: it never blocks, shedding updates
// when the consumer falls behind.
func (c *FeedConsumer) produce(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for now := range t.C {
		u := ScoreUpdate{Match: strconv.Itoa(1 + rand.IntN(40)), Home: rand.IntN(5), Away: rand.IntN(5), At: now}
		select {
		case c.updates <- u:
		default:
			c.dropped++
		}
	}
}

func (c *FeedConsumer) run() {
	for u := range c.updates {
		c.hub.Publish(u)
	}
}
