// The state files' one writer: contents replaced whole, no temp file left behind, the mode kept,
// and a directory it cannot write to reported with the path.
#include "gateway/windows/atomic_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

using modgate::windows::write_file_atomically;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the temp directory, removed with everything in it.
struct TempDir {
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "modgate-atomic-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::permissions(path, fs::perms::owner_all, ec);
        fs::remove_all(path, ec);
    }
    fs::path path;
};

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::size_t entries(const fs::path& dir) {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}));
}

}  // namespace

TEST_CASE("a new file is written with mode 0600 and no temp file is left") {
    TempDir d;
    const auto path = (d.path / "windows.state").string();
    CHECK(write_file_atomically(path, "modgate-windows 1\nend records=0\n").empty());
    CHECK(read(path) == "modgate-windows 1\nend records=0\n");
    CHECK(entries(d.path) == 1);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
}

TEST_CASE("an existing file is replaced whole, including by a shorter or empty one") {
    TempDir d;
    const auto path = (d.path / "vendors.state").string();
    const std::string big(100000, 'x');
    REQUIRE(write_file_atomically(path, big).empty());
    CHECK(read(path) == big);
    CHECK(write_file_atomically(path, "short\n").empty());
    CHECK(read(path) == "short\n");
    CHECK(write_file_atomically(path, std::string("nul\0byte", 8)).empty());
    CHECK(read(path) == std::string("nul\0byte", 8));
    CHECK(write_file_atomically(path, "").empty());
    CHECK(read(path).empty());
    CHECK(entries(d.path) == 1);
}

TEST_CASE("a temp file left by a crash is overwritten and removed") {
    TempDir d;
    const auto path = (d.path / "windows.state").string();
    std::ofstream(path + ".tmp") << "half-written garbage that is longer than the new contents";
    CHECK(write_file_atomically(path, "new\n").empty());
    CHECK(read(path) == "new\n");
    CHECK_FALSE(fs::exists(path + ".tmp"));
}

TEST_CASE("a directory it cannot write to is an error naming the path, and nothing changes") {
    TempDir d;
    SECTION("the directory does not exist") {
        const auto path = (d.path / "missing" / "windows.state").string();
        const auto error = write_file_atomically(path, "x");
        CHECK_THAT(error, Catch::Contains(path));
        CHECK_THAT(error, Catch::Contains("No such file or directory"));
        CHECK(entries(d.path) == 0);
    }
    SECTION("the directory is a regular file") {
        std::ofstream(d.path / "file") << "keep";
        const auto path = (d.path / "file" / "windows.state").string();
        CHECK_THAT(write_file_atomically(path, "x"), Catch::Contains(path));
        CHECK(read(d.path / "file") == "keep");
    }
    SECTION("the target is a directory: the rename fails and the temp file goes") {
        fs::create_directory(d.path / "windows.state");
        const auto path = (d.path / "windows.state").string();
        CHECK_THAT(write_file_atomically(path, "x"), Catch::Contains("rename") && Catch::Contains(path));
        CHECK_FALSE(fs::exists(path + ".tmp"));
        CHECK(fs::is_directory(path));
    }
    SECTION("the directory is read-only (root overrides the mode, so only checked as a user)") {
        if (::geteuid() == 0) return;
        const auto path = (d.path / "windows.state").string();
        REQUIRE(write_file_atomically(path, "old\n").empty());
        fs::permissions(d.path, fs::perms::owner_read | fs::perms::owner_exec);
        CHECK_THAT(write_file_atomically(path, "new\n"), Catch::Contains(path));
        CHECK(read(path) == "old\n");
    }
}
