package main

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
)

// redactedText replaces secret values in Redacted.
const redactedText = "REDACTED"

// redactValue replaces every non-empty secret under v (addressable) with
// redactedText, copying slices so the original is untouched.
func redactValue(v reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		fv := v.Field(i)
		switch {
		case sf.Tag.Get("secret") == "true":
			redactSecret(fv)
		case sf.Tag.Get("secret") == "url-password":
			fv.SetString(redactURLPassword(fv.String()))
		case sf.Type.Kind() == reflect.Struct && sf.Type != durationType:
			redactValue(fv)
		case sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Struct && !fv.IsNil():
			list := reflect.MakeSlice(sf.Type, fv.Len(), fv.Len())
			reflect.Copy(list, fv)
			for j := range list.Len() {
				redactValue(list.Index(j))
			}
			fv.Set(list)
		}
	}
}

func redactSecret(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.Len() > 0 {
			v.SetString(redactedText)
		}
	case reflect.Slice:
		if v.IsNil() {
			return
		}
		list := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for j := range list.Len() {
			if v.Index(j).Len() > 0 {
				list.Index(j).SetString(redactedText)
			}
		}
		v.Set(list)
	default:
		panic(fmt.Sprintf("config: secret of type %s", v.Type()))
	}
}

// redactURLPassword hides the password of a URL; a URL that does not parse
// is hidden whole, since it may hold one.
func redactURLPassword(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redactedText
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), redactedText)
		return u.String()
	}
	return raw
}

// configReference renders the Markdown table of every configuration key
// for the README (kept in sync by TestREADMEConfigReference).
func configReference() string {
	var b strings.Builder
	b.WriteString("| YAML key | environment | flag | default | description |\n")
	b.WriteString("|---|---|---|---|---|\n")
	rows := referenceRows(reflect.TypeFor[Config](), "")
	for _, r := range rows {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", r[0], r[1], r[2], r[3], r[4])
	}
	return b.String()
}

func referenceRows(t reflect.Type, prefix string) [][5]string {
	var rows [][5]string
	for i := range t.NumField() {
		sf := t.Field(i)
		key, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		path := key
		if prefix != "" {
			path = prefix + "." + key
		}
		switch {
		case sf.Type.Kind() == reflect.Struct && sf.Type != durationType:
			rows = append(rows, referenceRows(sf.Type, path)...)
			continue
		case sf.Type.Kind() == reflect.Slice && sf.Type.Elem().Kind() == reflect.Struct:
			rows = append(rows, [5]string{path, "", "", "", escapeCell(sf.Tag.Get("help")) + " (YAML only; a list of:)"})
			rows = append(rows, referenceRows(sf.Type.Elem(), path+"[]")...)
			continue
		}
		env, flg, def := "", "", ""
		if e := sf.Tag.Get("env"); e != "" {
			env = "`" + e + "`"
		}
		if f := sf.Tag.Get("flag"); f != "" {
			flg = "`--" + f + "`"
		}
		if d := resolveDefault(sf.Tag.Get("default")); d != "" {
			def = "`" + d + "`"
		}
		help := escapeCell(sf.Tag.Get("help"))
		if sf.Tag.Get("secret") == "true" {
			help = "**secret** (file or env only). " + help
		}
		rows = append(rows, [5]string{path, env, flg, def, help})
	}
	return rows
}

var cellEscaper = strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;")

func escapeCell(s string) string { return cellEscaper.Replace(s) }
