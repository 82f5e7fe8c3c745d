package main

import (
	"fmt"
	"strconv"

	"github.com/gomodule/redigo/redis"
)

// InboxStore keeps each user's unacknowledged message ids in a list and the messages under
// their own keys.
type InboxStore struct{ pool *redis.Pool }

// ListUnacked returns the bodies of a user's pending messages, dropping expired ones.
func (s *InboxStore) ListUnacked(user string) ([]string, error) {
	c := s.pool.Get()
	defer c.Close()
	ids, err := redis.Strings(c.Do("LRANGE", "unacked:"+user, 0, 9))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		expired, err := redis.Bool(c.Do("SISMEMBER", "expired:"+user, id))
		if err != nil {
			return out, err
		}
		// BUG: the helpers take a second connection from the pool while c is still held.
		if expired {
			if err := s.DropMessage(user, id); err != nil {
				return out, err
			}
			continue
		}
		body, err := s.Message(id)
		if err == redis.ErrNil {
			continue
		}
		if err != nil {
			return out, err
		}
		out = append(out, body)
	}
	return out, nil
}

// Message loads one message body.
func (s *InboxStore) Message(id string) (string, error) {
	c := s.pool.Get()
	defer c.Close()
	return redis.String(c.Do("GET", "msg:"+id))
}

// DropMessage moves an expired message to the end of a user's pending list, where a later
// sweep archives it.
func (s *InboxStore) DropMessage(user, id string) error {
	c := s.pool.Get()
	defer c.Close()
	if _, err := c.Do("LREM", "unacked:"+user, 1, id); err != nil {
		return err
	}
	_, err := c.Do("RPUSH", "unacked:"+user, id)
	return err
}

// seed creates users' pending lists; every other message has expired.
func (s *InboxStore) seed(users, perUser int) error {
	c := s.pool.Get()
	defer c.Close()
	for u := 1; u <= users; u++ {
		key := fmt.Sprintf("unacked:u%d", u)
		if err := c.Send("DEL", key, "expired:u"+strconv.Itoa(u)); err != nil {
			return err
		}
		for i := range perUser {
			id := strconv.Itoa(u*1000 + i)
			if err := c.Send("RPUSH", key, id); err != nil {
				return err
			}
			if (i+u)%2 == 0 {
				if err := c.Send("SET", "msg:"+id, "notification "+id); err != nil {
					return err
				}
			} else if err := c.Send("SADD", "expired:u"+strconv.Itoa(u), id); err != nil {
				return err
			}
		}
	}
	_, err := c.Do("")
	return err
}
