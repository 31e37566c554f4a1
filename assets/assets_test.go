package assets

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"image/png"
	"io/fs"
	"testing"
)

func TestIcon(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(Must("Icon.png")))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Errorf("icon is %v, want 512×512", b)
	}
}

func TestRingtoneIs48kMonoPCM(t *testing.T) {
	w := Must("sounds/ring.wav")
	if string(w[0:4]) != "RIFF" || string(w[8:12]) != "WAVE" {
		t.Fatal("not a WAV file")
	}
	// The fmt chunk follows the RIFF header in files made by sox.
	if string(w[12:16]) != "fmt " {
		t.Fatalf("first chunk %q", w[12:16])
	}
	format := binary.LittleEndian.Uint16(w[20:])
	channels := binary.LittleEndian.Uint16(w[22:])
	rate := binary.LittleEndian.Uint32(w[24:])
	bits := binary.LittleEndian.Uint16(w[34:])
	if (format != 1 && format != 0xFFFE) || channels != 1 || rate != 48000 || bits != 16 {
		t.Errorf("format %d, %d channels, %d Hz, %d bits", format, channels, rate, bits)
	}
}

func TestTranslationsParseAndAgree(t *testing.T) {
	files, err := fs.Glob(FS, TranslationsDir+"/*.json")
	if err != nil || len(files) < 2 {
		t.Fatalf("translations: %v %v", files, err)
	}
	keys := map[string]map[string]string{}
	for _, f := range files {
		var m map[string]string
		if err := json.Unmarshal(Must(f), &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		keys[f] = m
	}
	en := keys[TranslationsDir+"/en.json"]
	for f, m := range keys {
		for k := range en {
			if m[k] == "" {
				t.Errorf("%s lacks %q", f, k)
			}
		}
	}
}

func TestIcons(t *testing.T) {
	for _, n := range []string{"phone", "hangup", "mic", "mic-off", "backspace"} {
		if !bytes.Contains(Must("icons/"+n+".svg"), []byte("<svg")) {
			t.Errorf("%s is not SVG", n)
		}
	}
}
