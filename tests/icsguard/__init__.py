"""Every iCalendar object the tests make calbridge store, publish or mail, validated with
libical (/work/shared/tools/validate-ics.sh) at the end of the run: see plugin.py."""
