// Package busclient is a small client for a line-oriented message bus: one TCP connection,
// a reader goroutine, a heartbeater, and close notifications for the application.
package busclient

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// Error is what a connection reports when it closes because of a failure.
type Error struct {
	Code   int
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("bus error %d: %s", e.Code, e.Reason) }

// ErrCloseTimeout is returned by Close when the broker does not confirm the close in time.
var ErrCloseTimeout = errors.New("busclient: broker did not confirm close")

// Conn is a connection to the broker.
type Conn struct {
	nc         net.Conn
	wmu        sync.Mutex
	m          sync.Mutex
	destructor sync.Once
	closes     []chan *Error
	rpc        chan string
	errors     chan *Error
	stop       chan struct{}
}

// Dial connects and starts the connection's reader and heartbeater.
func Dial(addr string) (*Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := &Conn{nc: nc, rpc: make(chan string), errors: make(chan *Error, 1), stop: make(chan struct{})}
	if err := c.send("HELLO reconciler"); err != nil {
		nc.Close()
		return nil, err
	}
	go c.readLoop()
	go c.heartbeater(time.Second)
	return c, nil
}

// NotifyClose registers a channel that receives the error when the connection fails, and is
// closed when the connection is closed.
func (c *Conn) NotifyClose(ch chan *Error) chan *Error {
	c.m.Lock()
	defer c.m.Unlock()
	c.closes = append(c.closes, ch)
	return ch
}

// Publish sends one message to a topic.
func (c *Conn) Publish(topic, body string) error {
	return c.send("PUB " + topic + " " + body)
}

// Close asks the broker to close the connection and releases it.
func (c *Conn) Close() error {
	defer c.shutdown(nil)
	return c.call("CLOSE", "CLOSE-OK", 1500*time.Millisecond)
}

func (c *Conn) call(req, want string, timeout time.Duration) error {
	if err := c.send(req); err != nil {
		return err
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case reply := <-c.rpc:
		if reply != want {
			return fmt.Errorf("busclient: %s answered %q", req, reply)
		}
		return nil
	case err, ok := <-c.errors:
		if !ok {
			return errors.New("busclient: connection closed")
		}
		return err
	case <-t.C:
		return ErrCloseTimeout
	}
}

func (c *Conn) send(line string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, err := c.nc.Write([]byte(line + "\n"))
	return err
}

func (c *Conn) readLoop() {
	r := bufio.NewReader(c.nc)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			c.shutdown(&Error{Code: 501, Reason: "connection lost: " + err.Error()})
			return
		}
		line = strings.TrimSpace(line)
		switch {
		case line == "HB":
		case strings.HasPrefix(line, "CLOSE-OK"):
			c.rpc <- line
		}
	}
}

func (c *Conn) heartbeater(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = c.send("HB")
		case <-c.stop:
			return
		}
	}
}

// shutdown tears the connection down once: it tells every NotifyClose listener about err,
// then closes the listeners and the socket.
func (c *Conn) shutdown(err *Error) {
	c.destructor.Do(func() {
		c.m.Lock()
		defer c.m.Unlock()
		if err != nil {
			for _, ch := range c.closes {
				ch <- err
			}
			c.errors <- err
		}
		close(c.errors)
		for _, ch := range c.closes {
			close(ch)
		}
		c.closes = nil
		close(c.stop)
		_ = c.nc.Close()
	})
}
