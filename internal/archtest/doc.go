// Package archtest holds the test that keeps the README's import direction
// true: cmd → authdelegate, pingpull, hub → tokens, store, web;
// authdelegate and pingpull do not import each other; store imports no
// project package. It has no code of its own.
package archtest
