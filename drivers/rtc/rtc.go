// Package rtc reads the CMOS real-time clock.
package rtc

import (
	"time"

	"gomenuos/arch/x86"
)

func read(reg uint8) uint8 {
	x86.Outb(0x70, reg)
	return x86.Inb(0x71)
}

func updating() bool { return read(0x0A)&0x80 != 0 }

type raw struct{ sec, min, hour, day, mon, year, century uint8 }

func sample() raw {
	for updating() {
	}
	return raw{read(0x00), read(0x02), read(0x04), read(0x07), read(0x08), read(0x09), read(0x32)}
}

func bcd(v uint8) int { return int(v&0x0F) + int(v>>4)*10 }

// Now reads the RTC (UTC, as QEMU sets it by default). It samples until
// two reads agree, so an update in between cannot tear the value.
func Now() time.Time {
	a := sample()
	for {
		b := sample()
		if a == b {
			break
		}
		a = b
	}
	binary := read(0x0B)&0x04 != 0
	conv := func(v uint8) int {
		if binary {
			return int(v)
		}
		return bcd(v)
	}
	hour := a.hour
	pm := hour&0x80 != 0
	hour &= 0x7F
	h := conv(hour)
	if read(0x0B)&0x02 == 0 && pm { // 12-hour mode
		h = (h % 12) + 12
	}
	year := conv(a.year)
	century := conv(a.century)
	if century == 0 {
		century = 20
	}
	return time.Date(century*100+year, time.Month(conv(a.mon)), conv(a.day), h, conv(a.min), conv(a.sec), 0, time.UTC)
}

// Seconds returns the RTC time as Unix seconds without allocating (for
// trap context at boot).
func Seconds() int64 {
	a := sample()
	binary := read(0x0B)&0x04 != 0
	conv := func(v uint8) int64 {
		if binary {
			return int64(v)
		}
		return int64(bcd(v))
	}
	year := 2000 + conv(a.year)
	if c := conv(a.century); c != 0 {
		year = c*100 + conv(a.year)
	}
	return daysFromCivil(year, conv(a.mon), conv(a.day))*86400 + conv(a.hour&0x7F)*3600 + conv(a.min)*60 + conv(a.sec)
}

// daysFromCivil counts days since 1970-01-01 in the proleptic Gregorian calendar.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
