import pathlib

from django.core.management.base import BaseCommand, CommandError

from core.clock import MarketClock
from core.haircut import calibrated as haircut


class Command(BaseCommand):
    help = ("Regenerate the shipped calibrated-haircut table (core/data/haircut_k.json): k per coverage level "
            f"{', '.join(map(str, haircut.SHIPPED_LEVELS))} fitted on every closure of the price files, and each "
            "ticker's latest sigma. With --validation, the README's out-of-sample figures instead "
            "(core/data/haircut_validation.json: the old and the new model, each fitted before 2015 and tested on "
            "2015-2019, and fitted before 2020 and tested on 2020-2024). The same prices give the same bytes.")

    def add_arguments(self, parser):
        parser.add_argument("--prices", default=str(haircut.PRICES_DIR),
                            help="directory of <TICKER>.csv daily bars (default: the shipped ones)")
        parser.add_argument("--validation", action="store_true",
                            help="write the out-of-sample validation document instead of the k table")
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--out", help="file to write (default: the shipped file under core/data/)")
        target.add_argument("--json", action="store_true", help="print the document on stdout, write no file")

    def handle(self, *args, **options):
        prices = pathlib.Path(options["prices"])
        if not prices.is_dir():
            raise CommandError(f"--prices {prices} is not a directory")
        if not any(prices.glob("*.csv")):
            raise CommandError(f"--prices {prices} holds no <TICKER>.csv files")
        gap_kind = MarketClock.get("XNYS").gap_kind  # compiled from 2000, so it covers the shipped data
        try:
            if options["validation"]:
                text = haircut.document_json(haircut.shipped_validation(gap_kind, prices))
            else:
                text = haircut.document_json(haircut.fit_default_table(gap_kind, prices), sort_keys=True)
        except (OSError, KeyError, ValueError) as exc:
            raise CommandError(f"could not read the price files: {exc}") from None
        if options["json"]:
            self.stdout.write(text, ending="")
            return
        out = pathlib.Path(options["out"] or (haircut.VALIDATION_PATH if options["validation"]
                                              else haircut.K_TABLE_PATH))
        unchanged = out.is_file() and out.read_text() == text
        if not unchanged:
            out.write_text(text)
        self.stderr.write(f"{out}: {'unchanged' if unchanged else 'written'}")
