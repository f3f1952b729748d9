"""Raster errors as users read them: the Django edge of ``geodata.raster.errors``.

The raster core raises a stable code with plain parameters (``RasterError.code`` /
``.params``); here each code gets its sentence in the user's language, so a message never
mixes a translated frame with English detail. The product is named by its file name, never
the server path. Parameters named ``detail`` (what GDAL or zipfile said) are logged, not shown.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .raster.errors import RasterError

log = logging.getLogger(__name__)

#: code of ``geodata.raster.errors.PROBLEMS`` -> the problem in the user's language.
MESSAGES = {
    "file_missing": gettext_lazy("文件不存在"),
    "file_unreadable": gettext_lazy("文件无法读取"),
    "unsafe_path": gettext_lazy("只能读取本机的文件和文件夹（不接受网址、/vsi… 路径或驱动前缀）"),
    "bad_name": gettext_lazy("产品内含空的或含二进制字符的文件名"),
    "unsafe_name": gettext_lazy("拒绝文件名 %(name)s：只接受产品内的相对路径"),
    "name_leaves_product": gettext_lazy("拒绝文件名 %(name)s：“..”会离开产品文件夹"),
    "name_outside": gettext_lazy("文件名 %(name)s 指向产品文件夹之外"),
    "not_a_product": gettext_lazy(
        "不是可识别的影像产品：应为 GeoTIFF、.SAFE 文件夹或 zip、STAC 条目 .json 或 Landsat C2 文件夹"
    ),
    "not_raster_file": gettext_lazy("不是 GeoTIFF 或 JPEG 2000 文件（文件开头为 %(start)s）"),
    "stack_not_geotiff": gettext_lazy("多波段叠加影像必须是 GeoTIFF，而不是 %(driver)s"),
    "zip_damaged": gettext_lazy("zip 文件已损坏或不完整"),
    "zip_truncated": gettext_lazy("zip 文件不完整：%(member)s 被截断"),
    "zip_member_unreadable": gettext_lazy("无法从 zip 中读取 %(member)s"),
    "metadata_too_large": gettext_lazy("%(member)s 大得不合常理"),
    "xml_entities": gettext_lazy("元数据 XML 声明了实体，已拒绝"),
    "xml_invalid": gettext_lazy("元数据 XML 无法解析"),
    "safe_no_metadata": gettext_lazy("缺少 MTD_MSIL2A.xml"),
    "safe_level1c": gettext_lazy("这是 Level-1C 产品：仅支持 Level-2A（MTD_MSIL2A.xml）"),
    "not_stac": gettext_lazy("不是 STAC 条目"),
    "stac_platform": gettext_lazy("STAC 条目的平台 %(platform)s 不受支持"),
    "stac_asset_no_href": gettext_lazy("资产 %(asset)s 没有 href"),
    "stac_asset_missing": gettext_lazy("资产 %(asset)s 的文件 %(href)s 不存在"),
    "stac_missing_roles": gettext_lazy("STAC 条目缺少 %(roles)s 的资产"),
    "landsat_no_mtl": gettext_lazy("文件夹中没有 *_MTL.txt 元数据文件"),
    "landsat_spacecraft": gettext_lazy("卫星 %(craft)s：仅支持 Landsat 8/9 OLI"),
    "landsat_level": gettext_lazy("处理级别 %(level)s：需要 Collection-2 Level-2 产品"),
    "landsat_band_missing": gettext_lazy("文件夹中缺少波段 SR_B%(band)s（%(role)s）"),
    "cube_not_georeferenced": gettext_lazy("数据立方体没有 spatial_ref 或 x/y 坐标，无法地理定位"),
    "cube_time_units": gettext_lazy("时间轴没有“days since”单位"),
    "cube_no_date": gettext_lazy("%(res)s 米数据立方体中没有 %(date)s 的数据"),
    "band_missing": gettext_lazy("产品中缺少波段 %(band)s（%(res)s 米）"),
    "roles_missing": gettext_lazy("产品缺少 %(roles)s 波段"),
    "no_reflectance_band": gettext_lazy("产品没有反射率波段"),
    "band_count": gettext_lazy("传感器 %(sensor)s 需要 %(expected)s 个波段，文件有 %(count)s 个"),
    "band_index_missing": gettext_lazy("文件有 %(count)s 个波段，缺少第 %(index)s 波段"),
    "unreadable": gettext_lazy("不是可读取的 %(driver)s 栅格"),
    "too_many_pixels": gettext_lazy("文件头声称 %(width)s×%(height)s 像元，超过上限 %(max)s，已拒绝"),
    "block_too_large": gettext_lazy("数据块 %(width)s×%(height)s 过大，无法安全读取"),
    "no_crs": gettext_lazy("栅格没有坐标参考系（缺少地理定位）"),
    "undecodable": gettext_lazy("像元数据无法解码"),
    "unknown_sensor": gettext_lazy("未知传感器 %(sensor)s，应为 %(known)s 之一"),
    "sensor_required": gettext_lazy("未注明传感器，文件标签中也没有（%(known)s 之一）"),
    "sensor_lacks_band": gettext_lazy("传感器 %(sensor)s 没有 %(role)s 波段"),
    "sensor_differs": gettext_lazy("该产品是 %(actual)s，不是 %(expected)s"),
    "pair_sensor_mismatch": gettext_lazy("传感器 %(after)s 与前时相的（%(before)s）不一致"),
    "crs_untransformable": gettext_lazy("覆盖范围无法转换到前时相的坐标系"),
    "no_overlap": gettext_lazy("与 %(other)s 不重叠"),
    "no_valid_pixels": gettext_lazy("与 %(other)s 没有两期都有效的像元（全部为无数据、云或阴影）"),
    "series_too_short": gettext_lazy("时间序列至少需要三个日期"),
    "series_order": gettext_lazy("日期 %(date)s 不晚于前一景的 %(previous)s，请按从早到晚的顺序给出时间序列"),
    "cancelled": gettext_lazy("检测已取消"),
    "cluster_unreachable": gettext_lazy(
        "无法连接 Dask 调度器（请启动 dask scheduler，或取消 DASK_SCHEDULER_ADDRESS 以在本机运行）"
    ),
    "cluster_no_workers": gettext_lazy("调度器没有工作进程（请启动 dask worker <地址>）"),
    "cluster_worker_broken": gettext_lazy(
        "工作进程无法运行影像核心（请在每个工作进程上以相同依赖安装本项目：pip install -e .）"
    ),
    "cluster_mismatch": gettext_lazy("工作进程 %(worker)s 运行的代码不同：%(diff)s"),
    "scheduler_exited": gettext_lazy("Dask 调度器已退出（返回码 %(returncode)s）"),
    "scheduler_not_listening": gettext_lazy("Dask 调度器未开始监听"),
}


def problem_text(exc: RasterError) -> str:
    """The problem of ``exc`` in the user's language (its ``detail`` goes to the log)."""
    if "detail" in exc.params:
        log.info("raster problem %s on %s: %s", exc.code, exc.path, exc.params["detail"])
    return str(MESSAGES[exc.code]) % exc.params


def scene_problem(exc: RasterError) -> str:
    """A raster error as one sentence: the product's file name and the problem."""
    return _("影像 %(name)s 无法使用：%(problem)s") % {"name": Path(exc.path).name, "problem": problem_text(exc)}
