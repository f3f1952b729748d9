from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ZoningConfig(AppConfig):
    name = "zoning"
    verbose_name = _("三线一单分区管控")

    def ready(self) -> None:
        # App loading: importing the tile registry at module level would load DRF before the apps.
        from gridgov.tiles import TileLayer, register_layer

        register_layer(
            TileLayer(
                name="control-units",
                source="zoning_controlunit u",
                geom_column="u.geom",
                columns="u.code, u.name, u.category, u.version, u.synthetic",
            )
        )
        register_layer(
            TileLayer(
                name="red-line",
                source="zoning_zone z",
                geom_column="z.geom",
                columns="z.code, z.name, z.subtype, z.synthetic",
                where="z.layer = 'red_line'",
            )
        )
