/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The agencies and groups of the sample configuration
 * (../shared/samples/sonha.conf) as matching candidates: ids, names and
 * aliases exactly as the configuration spells them. */

#include "textnorm.h"

static const char *const sonha_lanhdao[] = { "Lãnh đạo UBND tỉnh", NULL };
static const char *const sonha_vpubnd[] = { "Văn phòng UBND tỉnh", "VPUB", "Văn phòng Ủy ban nhân dân tỉnh", NULL };
static const char *const sonha_stc[] = { "Sở Tài chính", NULL };
static const char *const sonha_skhdt[] = { "Sở Kế hoạch và Đầu tư", "Sở KH&ĐT", "SKHĐT", NULL };
static const char *const sonha_kbnn[] = { "Kho bạc Nhà nước tỉnh", NULL };
static const char *const sonha_sxd[] = { "Sở Xây dựng", NULL };
static const char *const sonha_stttt[] = { "Sở Thông tin và Truyền thông", "Sở TT&TT", NULL };
static const char *const sonha_snnptnt[] = { "Sở Nông nghiệp và Phát triển nông thôn", "Sở NN&PTNT", NULL };
static const char *const sonha_bchpctt[] = { "Ban Chỉ huy Phòng, chống thiên tai và Tìm kiếm cứu nạn tỉnh", NULL };
static const char *const sonha_stnmt[] = { "Sở Tài nguyên và Môi trường", "Sở TN&MT", NULL };
static const char *const sonha_syt[] = { "Sở Y tế", NULL };
static const char *const sonha_snv[] = { "Sở Nội vụ", NULL };
static const char *const sonha_anlac[] = { "UBND huyện An Lạc", NULL };
static const char *const sonha_binhson[] = { "UBND huyện Bình Sơn", NULL };
static const char *const sonha_dongphu[] = { "UBND thị xã Đông Phú", NULL };
static const char *const sonha_tpsonha[] = { "UBND thành phố Sơn Hà", NULL };
static const char *const sonha_cacso[] = { "Các sở, ban, ngành", "các sở, ban, ngành, đơn vị trực thuộc UBND tỉnh",
                                           "các sở, ban, ngành tỉnh", NULL };
static const char *const sonha_cachuyen[] = { "UBND các huyện, thị xã, thành phố", NULL };

static const struct textnorm_candidate sonha_candidates[] = {
        { "lanhdao", sonha_lanhdao },
        { "vpubnd", sonha_vpubnd },
        { "stc", sonha_stc },
        { "skhdt", sonha_skhdt },
        { "kbnn", sonha_kbnn },
        { "sxd", sonha_sxd },
        { "stttt", sonha_stttt },
        { "snnptnt", sonha_snnptnt },
        { "bchpctt", sonha_bchpctt },
        { "stnmt", sonha_stnmt },
        { "syt", sonha_syt },
        { "snv", sonha_snv },
        { "h-anlac", sonha_anlac },
        { "h-binhson", sonha_binhson },
        { "tx-dongphu", sonha_dongphu },
        { "tp-sonha", sonha_tpsonha },
        { "cacso", sonha_cacso },
        { "cachuyen", sonha_cachuyen },
};
#define SONHA_N_CANDIDATES (sizeof(sonha_candidates) / sizeof(sonha_candidates[0]))
