/*
 * ilorest_chif.h — the ABI of HPE's in-band CHIF library (libilorestchif.so / ilorest_chif.dll),
 * written from docs/reference/chif-abi.md §2, §3.1, §9. HPE publishes no header; the
 * prototypes are those HPE's own C/C++ code and ctypes declarations use.
 *
 * Rules every caller relies on:
 *  - status codes are 32-bit: 0 success; 19 (Linux) / 2 (Windows) no driver; 13 / 5 access
 *    denied (also wrong credentials); 8 security required / not authenticated.
 *  - builders return a pointer to a LIBRARY-OWNED template, valid until the next builder call;
 *    callers copy size_of_<X>() bytes at once and never free it.
 *  - every packet starts with an 8-byte header: u16 length @0, u16 sequence @2, u16 command @4,
 *    u16 service @6 (little-endian); every response has a u32 status @8 and echoes @2.
 *  - ChifPacketExchange takes no send length: the library reads it from u16 @0.
 *  - the library keeps its state globally (security flag, credentials), not per handle.
 */
#ifndef ILOREST_CHIF_H
#define ILOREST_CHIF_H

#include <stdint.h>
#include <stdbool.h>
#include <wchar.h>

#ifdef _WIN32
#define CHIF_API __declspec(dllexport)
#else
#define CHIF_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef void *CHIF_HANDLE;

/* Channel status codes (Linux values; Windows uses 2 and 5 for the first two). */
#define CHIFERR_Success 0
#define CHIFERR_NoDriver 19
#define CHIFERR_AccessDenied 13
#define CHIFERR_SecurityRequired 8

/* Blob store status codes (u32 @8 of blobstore responses). */
#define BLOB_SUCCESS 0
#define BLOB_BADPARAMETER 2
#define BLOB_NOTFOUND 12
#define BLOB_NOTMODIFIED 20

/* Security states (get_security_state byte @72, DetectILO out-parameter). */
#define SECURITY_FACTORY 1
#define SECURITY_PRODUCTION 3
#define SECURITY_HIGHSECURITY 4
#define SECURITY_FIPS 5
#define SECURITY_SUITEB 6

/* 2.1 Channel API */
CHIF_API void ChifInitialize(void *reserved);
CHIF_API uint32_t ChifCreate(CHIF_HANDLE *out);
CHIF_API uint32_t ChifPing(CHIF_HANDLE handle);
CHIF_API void ChifSetRecvTimeout(CHIF_HANDLE handle, int ms);
CHIF_API uint32_t ChifPacketExchange(CHIF_HANDLE handle, const uint8_t *send, uint8_t *recv, int recvSize);
CHIF_API uint32_t ChifPacketExchangeSpecifyTimeout(CHIF_HANDLE handle, const uint8_t *send, uint8_t *recv, uint32_t recvSize, uint32_t timeoutMs);
CHIF_API uint32_t ChifClose(CHIF_HANDLE handle);
CHIF_API void ChifTerminate(void);

/* 2.2 Security and credentials */
CHIF_API int ChifIsSecurityRequired(void);
CHIF_API void ChifDisableSecurity(void);
CHIF_API void ChifEnableSecurity(void);
CHIF_API int ChifGetSecuritySupport(void);
CHIF_API uint8_t *initiate_credentials(const char *user, const char *password);
CHIF_API int ChifVerifyCredentials(void);
CHIF_API char *login_cert(CHIF_HANDLE handle, const char *certFile, const char *privateKey, const char *keyPassword);

/* 2.3 Housekeeping */
CHIF_API void updaterandval(uint16_t value);
CHIF_API bool enabledebugoutput(const char *directory);
CHIF_API void encode_credentials(const char *in, char *out /* >= 128 bytes */);
CHIF_API void decode_credentials(const char *in, char *out /* >= 128 bytes */);

/* 2.4 Sizes: read at run time by every caller; never hard-code them. */
CHIF_API uint32_t get_max_buffer_size(void);
CHIF_API uint32_t max_write_size(void);
CHIF_API uint32_t max_read_size(void);
CHIF_API uint32_t size_of_createRequest(void);
CHIF_API uint32_t size_of_infoRequest(void);
CHIF_API uint32_t size_of_readRequest(void);
CHIF_API uint32_t size_of_readResponse(void);
CHIF_API uint32_t size_of_writeRequest(void);
CHIF_API uint32_t size_of_deleteRequest(void);
CHIF_API uint32_t size_of_finalizeRequest(void);
CHIF_API uint32_t size_of_listRequest(void);
CHIF_API uint32_t size_of_listResponse(void);
CHIF_API uint32_t size_of_responseHeaderBlob(void);
CHIF_API uint32_t size_of_restImmediateRequest(void);
CHIF_API uint32_t size_of_restBlobRequest(void);
CHIF_API uint32_t size_of_restResponseFixed(void);
CHIF_API uint32_t size_of_securityStateRequest(void);
CHIF_API uint32_t size_of_embeddedMediaRequest(void);
/* historic sizes (python-ilorest-library <= 2.x, HPE's Node SDK) */
CHIF_API uint32_t size_of_createResponse(void);
CHIF_API uint32_t size_of_infoResponse(void);
CHIF_API uint32_t size_of_writeResponse(void);
CHIF_API uint32_t size_of_deleteResponse(void);
CHIF_API uint32_t size_of_finalizeResponse(void);
CHIF_API uint32_t size_of_restResponse(void);
CHIF_API uint32_t size_of_listResponseFixed(void);
CHIF_API uint32_t size_of_securityStateResponse(void);
CHIF_API uint32_t size_of_embeddedMediaResponse(void);
CHIF_API uint32_t size_of_srbuf(void);

/* 2.5 Packet builders: library-owned templates */
CHIF_API uint8_t *create_not_blobentry(const char *key, const char *ns);
CHIF_API uint8_t *create_not_blobentrybc(const char *key, const char *ns);
CHIF_API uint8_t *get_info(const char *key, const char *ns);
CHIF_API uint8_t *read_fragment(uint32_t offset, uint32_t count, const char *key, const char *ns);
CHIF_API uint8_t *write_fragment(uint32_t offset, uint32_t count, const char *key, const char *ns);
CHIF_API uint8_t *finalize_blob(const char *key, const char *ns);
CHIF_API uint8_t *delete_blob(const char *key, const char *ns);
CHIF_API uint8_t *list_blob(const char *ns);
CHIF_API uint8_t *rest_immediate(uint32_t len, const char *rspKey, const char *ns);
CHIF_API uint8_t *rest_immediate_blobdesc(const char *rqtKey, const char *rspKey, const char *ns);
CHIF_API uint8_t *get_security_state(void);
CHIF_API uint8_t *blackbox_media_mount(void);
CHIF_API uint8_t *absaroka_media_mount(void);
CHIF_API uint8_t *gaius_media_mount(void);
CHIF_API uint8_t *vid_media_mount(void);
CHIF_API uint8_t *flat_media_mount(void);
CHIF_API uint8_t *media_unmount(void);
CHIF_API uint8_t *bb_media_unmount(void);
CHIF_API uint8_t *vid_media_unmount(void);
CHIF_API uint8_t *gaius_media_unmount(void);
CHIF_API uint8_t *absaroka_media_unmount(void);

/* 2.6 iLO 7 / vNIC application accounts (python-ilorest-library vnichpilo.py, ilorest 7.x).
 * All strings in are NUL-terminated UTF-8. Every string or array out is allocated by the
 * library and never freed by callers (no free function exists). Return codes: */
#define APPRC_Success 0
#define APPRC_AutoProvisioningEnabled 1 /* GenerateAppToken on Windows: success */
#define APPRC_InactiveToken 2           /* GetSessionID: token inactive or expired */
#define APPRC_Failed (-1)               /* DetectILO with iloType 100: no iLO driver */
#define APPRC_InvalidParameters (-2)    /* also: no app account for the given appid */
#define APPRC_InvalidCredentials (-8)   /* CompareAppIds: no app accounts */
#define APPRC_CaChain (-27)
#define APPRC_TpmNvDefine (-38)
#define APPRC_TpmGetCapability (-40)
#define APPRC_VnicDisabled (-50) /* DetectILO with iloType 101 */
#define APPRC_SaveInIlo (-53)
#define APPRC_SaveInTpm (-54)
#define APPRC_AlreadyExists (-55)
#define APPRC_CompareInactive (-62)
#define APPRC_TpmOwnerAuthRequired (-63)
#define APPRC_TpmBadAuth1 (-64)
#define APPRC_TpmBadAuth2 (-65)
#define APPRC_TpmNvLocked (-66)
#define APPRC_TpmLockout (-67)
/* DetectILO's iloType: 5, 6, 7, or one of these. */
#define ILOTYPE_NoDriver 100
#define ILOTYPE_VnicDisabled 101
/* iLOrest's own account: this literal as appid, appname and salt. */
#define APP_SELF_REGISTER "self_register"

CHIF_API int DetectILO(const char *appid, int *iloType, int *securityState);
CHIF_API int ReadyToUse(void);
CHIF_API int AppIdExistsinTPM(const char *appid, bool *exists);
/* ilorest 6.3 declared 5 parameters, 7.x passes 6 (ownerAuth "" when absent): callers pass 6. */
CHIF_API int GenerateAppToken(const char *appid, const char *appname, const char *salt, const char *user, const char *password, const char *ownerAuth);
CHIF_API int ReactivateAppToken(const char *appid, const char *appname, const char *salt, const char *user, const char *password, const char *ownerAuth);
CHIF_API int DeleteAppToken(const char *appid, const char *appname, const char *salt);
CHIF_API int DeleteAppTokenUsingCreds(const char *appid, const char *user, const char *password);
/* *sessionLocation is an absolute URL (https://<vNIC>/redfish/v1/SessionService/Sessions/<id>). */
CHIF_API int GetSessionID(const char *appid, const char *appname, const char *salt, char **sessionId, char **sessionLocation);
CHIF_API int ExpandAppid(const char *appid4, char **expanded);
CHIF_API wchar_t *GetIPAddress(void);
CHIF_API int CompareAppIds(const char *appid, const char *appname, const char *salt, char ***ids, char ***names, int *count, uint8_t **inTpm, uint8_t **inIlo);

#ifdef __cplusplus
}
#endif

#endif /* ILOREST_CHIF_H */
