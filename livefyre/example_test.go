package livefyre_test

import (
	"errors"
	"fmt"

	"github.com/ssogate/ssogate/livefyre"
)

func ExampleCanonicalProfile() {
	// Lenient in: string booleans, "" as unset, unknown keys, any order.
	raw := `{"display_name":"Bob Dole","id":"bob","moderator":"true","bio":"","nickname":"bd"}`
	canonical, err := livefyre.CanonicalProfile([]byte(raw))
	if err != nil {
		panic(err)
	}
	// Exact out.
	fmt.Println(string(canonical))
	// Output: {"id":"bob","display_name":"Bob Dole","moderator":true}
}

func ExampleParseProfile() {
	_, err := livefyre.ParseProfile([]byte(`{"id":"bob","display_name":"<b>Bob</b>"}`))
	var fe *livefyre.FieldError
	if errors.As(err, &fe) {
		fmt.Println(fe.Field, "-", fe.Message)
	}
	// Output: display_name - must not contain HTML
}
