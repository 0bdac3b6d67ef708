// Publishing a package version, local and S3 (test_store.h): promote_file copies a staged object
// to its published key after checking its SHA-256, publish_text writes the descriptor; each
// returns an undo that puts back what the key held, and a refusal leaves the key and the staging
// folder as they were.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "base/error.h"
#include "package/promote.h"
#include "test_store.h"
#include "tiff_writer.h"
#include "transfer/download.h"

using namespace geoetl;

namespace {

const char* const kStaged = "packages/area-1/_staging/7/lights-area-1.gpkg";
const char* const kKey = "packages/area-1/lights/lights-area-1.gpkg";

class Promote : public EachStore {
 protected:
  // Puts `bytes` in the store as `key` and returns their SHA-256.
  std::string put(const std::string& key, const std::string& bytes) {
    const std::string file = local_.file("bytes-" + std::to_string(++files_));
    std::ofstream(file, std::ios::binary) << bytes;
    store_->put(file, key, CancelToken());
    return sha256_file(file);
  }
  // The bytes of the object `key` ("" when there is none).
  std::string object(const std::string& key) {
    if (!store_->size_of(key)) return "";
    const std::string file = local_.file("got-" + std::to_string(++files_));
    store_->get(key, file, CancelToken());
    return read_file(file);
  }
  ErrorKind refusal(const std::string& from, const std::string& expected) {
    try {
      forget_adopt(promote_file(*store_, from, kKey, expected, CancelToken()).undo);
    } catch (const Error& e) {
      return e.kind();
    }
    return ErrorKind::internal;
  }
  int files_ = 0;
};

TEST_P(Promote, AStagedObjectIsCopiedToItsKey) {
  const std::string sha256 = put(kStaged, "the clip's bytes");
  const PublishedFile p = promote_file(*store_, kStaged, kKey, sha256, CancelToken());
  forget_adopt(p.undo);
  EXPECT_EQ(object(kKey), "the clip's bytes");
  EXPECT_EQ(object(kStaged), "the clip's bytes");  // the staged object stays
  EXPECT_EQ(p.uri, store_->uri(kKey));
  EXPECT_EQ(p.bytes, 16u);
  EXPECT_EQ(p.sha256, sha256);
  EXPECT_EQ(staged_files(*store_), 0u);
  if (GetParam() == "local") {  // a hard link: no bytes copied
    struct stat staged, published;
    ASSERT_EQ(stat(store_->gdal_path(kStaged).c_str(), &staged), 0);
    ASSERT_EQ(stat(store_->gdal_path(kKey).c_str(), &published), 0);
    EXPECT_EQ(staged.st_ino, published.st_ino);
  } else {  // the published object's local copy holds its bytes
    EXPECT_EQ(read_file(store_->local_copy(kKey)), "the clip's bytes");
  }
}

TEST_P(Promote, UndoPutsBackWhatTheKeyHeld) {
  put(kKey, "version 1");
  const PublishedFile replaced =
      promote_file(*store_, kStaged, kKey, put(kStaged, "version 2"), CancelToken());
  EXPECT_EQ(object(kKey), "version 2");
  undo_adopt(*store_, replaced.undo);
  EXPECT_EQ(object(kKey), "version 1");
  EXPECT_EQ(object(kStaged), "version 2");
  // a key that held nothing holds nothing again
  const char* const fresh = "packages/area-1/lights/new.gpkg";
  const PublishedFile added =
      promote_file(*store_, kStaged, fresh, put(kStaged, "new"), CancelToken());
  EXPECT_EQ(object(fresh), "new");
  undo_adopt(*store_, added.undo);
  EXPECT_FALSE(store_->size_of(fresh));
  EXPECT_EQ(staged_files(*store_), 0u);
}

TEST_P(Promote, AStagedObjectThatChangedIsRefusedAndTheKeyKept) {
  put(kKey, "published");
  const std::string recorded = put(kStaged, "what the job wrote");
  put(kStaged, "what is there now");
  EXPECT_EQ(refusal(kStaged, recorded), ErrorKind::data_corrupted);
  EXPECT_EQ(object(kKey), "published");
  EXPECT_EQ(object(kStaged), "what is there now");
  EXPECT_EQ(staged_files(*store_), 0u);
  store_->remove(kKey);  // nor is a key that held nothing created
  EXPECT_EQ(refusal(kStaged, recorded), ErrorKind::data_corrupted);
  EXPECT_FALSE(store_->size_of(kKey));
  EXPECT_EQ(staged_files(*store_), 0u);
}

TEST_P(Promote, AMissingStagedObjectIsNotFound) {
  put(kKey, "published");
  EXPECT_EQ(refusal(kStaged, std::string(64, '0')), ErrorKind::not_found);
  EXPECT_EQ(object(kKey), "published");
  EXPECT_EQ(staged_files(*store_), 0u);
  EXPECT_EQ(refusal("../escape.gpkg", ""), ErrorKind::invalid_argument);
}

TEST_P(Promote, TextIsPublishedExactly) {
  // "abc" is FIPS 180-2's example: its SHA-256 is known
  const PublishedFile abc = publish_text(*store_, "t/abc.txt", "abc", CancelToken());
  forget_adopt(abc.undo);
  EXPECT_EQ(abc.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(abc.bytes, 3u);
  EXPECT_EQ(abc.uri, store_->uri("t/abc.txt"));
  EXPECT_EQ(object("t/abc.txt"), "abc");
  const std::string json =
      "{\n  \"name\": \"lights \xC3\xA9t\xC3\xA9\",\n  \"x\": \"\\u0000\"\n}\n" +
      std::string(3 << 20, ' ') + "\n";  // more than one write
  const PublishedFile p = publish_text(*store_, "t/datapackage.json", json, CancelToken());
  forget_adopt(p.undo);
  EXPECT_EQ(object("t/datapackage.json"), json);
  EXPECT_EQ(p.bytes, json.size());
  EXPECT_EQ(p.sha256, store_sha256(*store_, "t/datapackage.json", CancelToken()));
  EXPECT_EQ(staged_files(*store_), 0u);
}

TEST_P(Promote, PublishedTextCanBeTakenBack) {
  forget_adopt(
      publish_text(*store_, "t/datapackage.json", "{\"version\": \"1.0.0\"}\n", CancelToken())
          .undo);
  const PublishedFile second =
      publish_text(*store_, "t/datapackage.json", "{\"version\": \"1.1.0\"}\n", CancelToken());
  EXPECT_EQ(object("t/datapackage.json"), "{\"version\": \"1.1.0\"}\n");
  undo_adopt(*store_, second.undo);
  EXPECT_EQ(object("t/datapackage.json"), "{\"version\": \"1.0.0\"}\n");
  const PublishedFile fresh = publish_text(*store_, "t/new.json", "{}", CancelToken());
  undo_adopt(*store_, fresh.undo);
  EXPECT_FALSE(store_->size_of("t/new.json"));
  EXPECT_EQ(staged_files(*store_), 0u);
  try {
    publish_text(*store_, "t/cancelled.json", "{}", CancelToken([] { return true; }));
    ADD_FAILURE() << "not cancelled";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::cancelled);
  }
  EXPECT_FALSE(store_->size_of("t/cancelled.json"));
  EXPECT_EQ(staged_files(*store_), 0u);
}

INSTANTIATE_TEST_SUITE_P(Package, Promote, testing::Values("local", "s3"), store_kind);

}  // namespace
