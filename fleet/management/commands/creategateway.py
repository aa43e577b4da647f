"""`manage.py creategateway SITE_ID [--name NAME]`: a new gateway for a site, its token printed once.

For installers who provision from a shell: the token alone goes to standard
output (`TOKEN=$(python manage.py creategateway 3)`), what was created goes
to standard error. Exit status 0 when created, 1 when refused (unknown site,
a name the site already has, an invalid name), 2 for a malformed command line.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from fleet.models import Gateway, Site
from fleet.services.gateway_tokens import gateway_issue_token

EXIT_REFUSED = 1


class Command(BaseCommand):
    """Create a gateway for a site and print its token, the only time it is shown."""

    help = (
        "Create a gateway for the site SITE_ID and print its token (shown only this once) on standard output. "
        "Exit status: 0 created, 1 refused (unknown site, duplicate or invalid name), 2 bad command line."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("site_id", type=int, metavar="SITE_ID", help="Id of the site (see the admin or /api/v1/sites/).")
        parser.add_argument(
            "--name", help="The gateway's name, unique within the site (default: the site's name as a slug, e.g. garage-north)."
        )

    def handle(self, *args, site_id: int, name: str | None, **options) -> None:
        site = Site.objects.select_related("organization").filter(pk=site_id).first()
        if site is None:
            raise CommandError(f"There is no site with id {site_id}.", returncode=EXIT_REFUSED)
        gateway = Gateway(site=site, name=name if name is not None else slugify(site.name)[:100])
        if Gateway.objects.filter(site=site, name=gateway.name).exists():
            raise CommandError(
                f"Site {site.name!r} (id {site.pk}) already has a gateway named {gateway.name!r}; choose another with --name.",
                returncode=EXIT_REFUSED,
            )
        try:
            gateway.full_clean()
        except ValidationError as error:
            problems = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
            raise CommandError(f"The gateway was not created: {problems}", returncode=EXIT_REFUSED) from None
        try:
            with transaction.atomic():
                gateway.save()
                token = gateway_issue_token(gateway)
        except IntegrityError:  # created by someone else between the check and the save
            raise CommandError(
                f"Site {site.name!r} (id {site.pk}) already has a gateway named {gateway.name!r}; choose another with --name.",
                returncode=EXIT_REFUSED,
            ) from None
        self.stderr.write(
            f"Created gateway {gateway.name!r} (id {gateway.pk}) for site {site.name!r} (id {site.pk}, {site.organization.name}). "
            "Its token follows; it is stored hashed and shown only this once:",
            style_func=self.style.SUCCESS,
        )
        self.stdout.write(token)
