package tokens_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/ssogate/ssogate/tokens"
)

// A fixed clock makes the examples' output stable; production code leaves
// Config.Now nil.
func clock(sec int64) func() time.Time {
	return func() time.Time { return time.Unix(sec, 0) }
}

func ExampleNew() {
	codec, err := tokens.New(tokens.Config{
		Network:      "labs.fyre.co",
		Key:          "bmV3IG5ldHdvcmsga2V5",           // signs and verifies
		PreviousKeys: []string{"b2xkIG5ldHdvcmsga2V5"}, // verifies until the rotation is over
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(codec.Network())

	_, err = tokens.New(tokens.Config{})
	fmt.Println(err)
	// Output:
	// labs.fyre.co
	// tokens: invalid config: network is required
	// key is required
}

func ExampleCodec_Mint() {
	codec, err := tokens.New(tokens.Config{Network: "test.fyre.co", Key: "testkeytest", Now: clock(1400000000)})
	if err != nil {
		fmt.Println(err)
		return
	}
	token, err := codec.Mint("user-1.a_b", "Bob Dole", time.Hour)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(token)

	_, err = codec.Mint("bob@example.com", "Bob", time.Hour)
	fmt.Println(errors.Is(err, tokens.ErrInvalidUserID))
	// Output:
	// eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJkb21haW4iOiJ0ZXN0LmZ5cmUuY28iLCJ1c2VyX2lkIjoidXNlci0xLmFfYiIsImRpc3BsYXlfbmFtZSI6IkJvYiBEb2xlIiwiZXhwaXJlcyI6MTQwMDAwMzYwMCwiaWF0IjoxNDAwMDAwMDAwfQ.shYs7HriniQbP67FbvWNZ5z50cLrvUkvT16snPiTYYU
	// true
}

func ExampleCodec_Verify() {
	// A token minted by Livefyre's Node library: float expires, iat.
	const token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJkb21haW4iOiJ0ZXN0LmZ5cmUuY28iLCJ1c2VyX2lkIjoidXNlci0xLmFfYiIsImRpc3BsYXlfbmFtZSI6IkJvYiBEb2xlIiwiZXhwaXJlcyI6MTQwMDAwMzYwMC4xMjMsImlhdCI6MTQwMDAwMDAwMH0.Tz8buJGfgu7pokSKWYl-EUHhHKaBGO6mHX4Gz03YlcI"
	codec, err := tokens.New(tokens.Config{Network: "test.fyre.co", Key: "testkeytest", Now: clock(1400000000)})
	if err != nil {
		fmt.Println(err)
		return
	}
	claims, err := codec.Verify(token)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(claims.UserID, "|", claims.DisplayName, "|", claims.Expires.Format(time.RFC3339Nano))
	// Output:
	// user-1.a_b | Bob Dole | 2014-05-13T17:53:20.123Z
}

func ExampleCodec_VerifySystem() {
	// The sample system token of Livefyre's library documentation.
	const token = "eyJhbGciOiJIUzI1NiJ9.eyJkb21haW4iOiJ0ZXN0LmZ5cmUuY29tIiwidXNlcl9pZCI6InN5c3RlbSIsImRpc3BsYXlfbmFtZSI6InN5c3RlbSIsImV4cGlyZXMiOjEzOTY2NTUwODN9.33GuJF_ou2O6CCV22Y3PlLUgP2Igy9vAXfmLONkt-Yo"
	for _, now := range []int64{1396655000, 1396656000} {
		codec, err := tokens.New(tokens.Config{Network: "test.fyre.com", Key: "testkeytest", Now: clock(now)})
		if err != nil {
			fmt.Println(err)
			return
		}
		claims, err := codec.VerifySystem(token)
		var expired *tokens.ExpiredError
		switch {
		case errors.As(err, &expired):
			fmt.Println("expired at", expired.Expires.Format(time.RFC3339))
		case err != nil:
			fmt.Println(err)
		default:
			fmt.Println("valid system token of", claims.Domain)
		}
	}
	// Output:
	// valid system token of test.fyre.com
	// expired at 2014-04-04T23:44:43Z
}

func ExampleCodec_MintSystem() {
	codec, err := tokens.New(tokens.Config{Network: "test.fyre.co", Key: "testkeytest", Now: clock(1400000000)})
	if err != nil {
		fmt.Println(err)
		return
	}
	token, err := codec.MintSystem(0) // 24 hours
	if err != nil {
		fmt.Println(err)
		return
	}
	claims, err := codec.VerifySystem(token)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(claims.UserID, claims.Expires.Sub(time.Unix(1400000000, 0)))
	// Output:
	// system 24h0m0s
}

func ExamplePeekDomain() {
	// A hub serving several networks picks the codec by the unverified
	// domain, then verifies with it.
	codecs := map[string]*tokens.Codec{}
	for _, network := range []string{"test.fyre.co", "labs.fyre.co"} {
		c, err := tokens.New(tokens.Config{Network: network, Key: "key of " + network, Now: clock(1400000000)})
		if err != nil {
			fmt.Println(err)
			return
		}
		codecs[network] = c
	}
	token, _ := codecs["labs.fyre.co"].MintSystem(0)

	domain, err := tokens.PeekDomain(token)
	if err != nil {
		fmt.Println(err)
		return
	}
	codec, ok := codecs[domain]
	if !ok {
		fmt.Println("unknown network")
		return
	}
	_, err = codec.VerifySystem(token)
	fmt.Println(domain, err)
	// Output:
	// labs.fyre.co <nil>
}

func ExampleValidUserID() {
	for _, id := range []string{"user-name_123.BLAH", "system@blah"} {
		fmt.Println(id, tokens.ValidUserID(id))
	}
	// Output:
	// user-name_123.BLAH true
	// system@blah false
}
