"""English admin, Vietnamese dates: an official who reads the admin in English still types dates
as written in Vietnam (10/03/2026 is 10 March, not 3 October). ISO dates are accepted too."""

from django.conf.locale.en.formats import *  # noqa: F403

from config.formats.vi.formats import DATE_INPUT_FORMATS, DATETIME_INPUT_FORMATS  # noqa: F401

FIRST_DAY_OF_WEEK = 1  # Monday
