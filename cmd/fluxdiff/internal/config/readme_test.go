package config

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// setting is one configuration key found by walking Config's json tags.
type setting struct {
	key   string
	value reflect.Value // the value at key (invalid under a map of structs)
}

var durationType = reflect.TypeFor[Duration]()

// settings lists every key of v in field order, as dotted paths of json
// tags: nested structs "github.appID", slices of structs
// "clusters[].qps" (valued from the first element, if any), maps of structs
// "github.repositories.<repo>.commentMode". Other types (Duration, Secret,
// maps and slices of strings) are leaves.
func settings(v reflect.Value, prefix string) []setting {
	var out []setting
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		key := prefix + name
		fv := v.Field(i)
		switch {
		case f.Type == durationType:
			out = append(out, setting{key, fv})
		case f.Type.Kind() == reflect.Struct:
			out = append(out, settings(fv, key+".")...)
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			elem := reflect.New(f.Type.Elem()).Elem()
			if fv.Len() > 0 {
				elem = fv.Index(0)
			}
			out = append(out, settings(elem, key+"[].")...)
		case f.Type.Kind() == reflect.Map && f.Type.Elem().Kind() == reflect.Struct:
			for _, s := range settings(reflect.New(f.Type.Elem()).Elem(), key+".<repo>.") {
				out = append(out, setting{key: s.key})
			}
		default:
			out = append(out, setting{key, fv})
		}
	}
	return out
}

// readmeRow is one row of the README's configuration reference.
type readmeRow struct {
	env, def, meaning string
}

// readmeReference reads the table under "## Configuration reference":
// rows "| `key` | `FLUXDIFF_…` or — | default | meaning |".
func readmeReference(t *testing.T) map[string]readmeRow {
	t.Helper()
	b, err := os.ReadFile("../../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]readmeRow{}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			in = line == "### Configuration reference"
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) != 6 {
			t.Errorf("README row %q: want 4 cells (no | inside a cell)", line)
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		key := strings.Trim(cells[1], "`")
		if _, dup := rows[key]; dup {
			t.Errorf("README lists %s twice", key)
		}
		rows[key] = readmeRow{env: cells[2], def: cells[3], meaning: cells[4]}
	}
	if len(rows) == 0 {
		t.Fatal("README.md has no configuration reference table under ### Configuration reference")
	}
	return rows
}

var backticked = regexp.MustCompile("`([^`]*)`")

// The README's configuration reference is what operators read: it must name
// every key of Config and nothing else, give each key the environment
// variables that override it (EnvKeys), and state the default that Load
// fills in (a backticked value first in the cell when Load sets a non-zero
// default; otherwise none, or the zero value itself, e.g. `false`).
func TestReadmeConfigurationReferenceMatchesTheConfigStruct(t *testing.T) {
	rows := readmeReference(t)
	defaults, err := Load("", envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	envByKey := map[string][]string{}
	for env, key := range EnvKeys() {
		envByKey[key] = append(envByKey[key], env)
	}
	seen := map[string]bool{}
	for _, s := range settings(reflect.ValueOf(defaults).Elem(), "") {
		seen[s.key] = true
		row, ok := rows[s.key]
		if !ok {
			t.Errorf("README's configuration reference has no row for %s", s.key)
			continue
		}
		if row.meaning == "" {
			t.Errorf("%s: the row says nothing of its meaning", s.key)
		}
		var envs []string
		for _, m := range backticked.FindAllStringSubmatch(row.env, -1) {
			envs = append(envs, m[1])
		}
		if want := slices.Sorted(slices.Values(envByKey[s.key])); !slices.Equal(want, slices.Sorted(slices.Values(envs))) {
			t.Errorf("%s: README names environment variables %v, want %v", s.key, envs, want)
		}
		if err := checkDefault(s.value, row.def); err != nil {
			t.Errorf("%s: default: %v", s.key, err)
		}
	}
	for key := range rows {
		if !seen[key] {
			t.Errorf("README's configuration reference lists %s, which is not a key of the configuration", key)
		}
	}
}

// checkDefault compares the default cell with the value Load filled in.
func checkDefault(v reflect.Value, cell string) error {
	zero := !v.IsValid() || v.IsZero()
	m := backticked.FindStringSubmatchIndex(cell)
	if m == nil || m[0] != 0 {
		if zero {
			return nil
		}
		return fmt.Errorf("cell %q does not start with the default `%v`", cell, v.Interface())
	}
	token := cell[m[2]:m[3]]
	if zero {
		// `false` or `0` may be said of a zero value; nothing else.
		if v.IsValid() && token == fmt.Sprint(v.Interface()) && token != "" {
			return nil
		}
		return fmt.Errorf("cell %q gives a default, but Load leaves the setting empty", cell)
	}
	var ok bool
	switch x := v.Interface().(type) {
	case Duration:
		d, err := time.ParseDuration(token)
		ok = err == nil && d == x.Duration
	case float32:
		ok = token == strconv.FormatFloat(float64(x), 'g', -1, 32)
	default:
		ok = token == fmt.Sprint(x)
	}
	if !ok {
		return fmt.Errorf("README says `%s`, Load sets %v", token, v.Interface())
	}
	return nil
}

// EnvKeys is what the README check trusts for the environment column, so
// each variable must really set the key it names.
func TestEveryEnvironmentVariableSetsTheKeyItNames(t *testing.T) {
	samples := map[reflect.Kind]string{reflect.String: "x", reflect.Int: "7", reflect.Int64: "7", reflect.Bool: "true", reflect.Slice: "U0A,U0B"}
	for env, key := range EnvKeys() {
		var probe Config
		for _, s := range settings(reflect.ValueOf(&probe).Elem(), "") {
			if s.key != key {
				continue
			}
			val := samples[s.value.Kind()]
			if s.value.Type() == durationType {
				val = "7s"
			}
			if errs := applyEnv(&probe, envMap(map[string]string{env: val})); len(errs) > 0 {
				t.Fatalf("%s=%s: %v", env, val, errs)
			}
		}
		var after reflect.Value
		for _, s := range settings(reflect.ValueOf(&probe).Elem(), "") {
			if s.key == key {
				after = s.value
			}
		}
		if !after.IsValid() || after.IsZero() {
			t.Errorf("%s does not set %s", env, key)
		}
	}
}
