//go:build go1.27

package main

import "hangdoc/scenarios/formats/internal/expect"

// Await is a method with its own type parameter (Go 1.27+); tracebacks print it as
// main.(*Box[...]).Await[...].
//
//go:noinline
func (b *Box[T]) Await[U any](conv func(T) U) U { return conv(<-b.ch) }

//go:noinline
func spawnGenericMethods(p *population) {
	go keep.box.Await(func(i int) string { return "" })
	p.add(expect.Category{Function: "main.(*Box[...]).Await[...]", Count: 1, State: "chan receive", CreatedBy: "main.spawnGenericMethods"})
}
